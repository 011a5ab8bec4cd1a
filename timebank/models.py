"""Every model, imported in one place so that relationships resolve and Alembic sees all tables."""
from timebank.communities.models import Area, Category, Community  # noqa: F401
from timebank.members.models import Member, member_skills  # noqa: F401
from timebank.audit.models import AuditEvent  # noqa: F401
from timebank.mail.models import OutboxMessage  # noqa: F401
from timebank.ledger.models import Account, Posting, Transaction  # noqa: F401
