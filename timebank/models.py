"""Every model, imported in one place so that relationships resolve and Alembic sees all tables."""

from timebank.api.models import ApiToken, IdempotencyRecord  # noqa: F401
from timebank.audit.models import AuditEvent  # noqa: F401
from timebank.communities.models import Area, Category, Community, CommunityLink  # noqa: F401
from timebank.desk.models import Assignment, MemberNote  # noqa: F401
from timebank.exchanges.models import Exchange, Message, Participant, ThankYou  # noqa: F401
from timebank.governance.models import Ballot, Comment, Option, Proposal, Supporter, Vote, Voter  # noqa: F401
from timebank.ledger.models import Account, Posting, Transaction  # noqa: F401
from timebank.mail.models import OutboxMessage  # noqa: F401
from timebank.market.models import Post  # noqa: F401
from timebank.members.models import JoinRequest, Member, MemberToken, member_skills  # noqa: F401
from timebank.members.sign_in_log import SignInEvent  # noqa: F401
from timebank.moderation.models import Block, ModerationCase, Report  # noqa: F401
from timebank.notifications.models import Notification  # noqa: F401
from timebank.pots.models import Pot  # noqa: F401
from timebank.stats.models import (  # noqa: F401
    StatsAccountDay,
    StatsAccountMonth,
    StatsCategoryDay,
    StatsDay,
    StatsFundDay,
    StatsPairDay,
    StatsPairMonth,
)
from timebank.uploads.models import Image  # noqa: F401
