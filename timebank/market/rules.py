"""What the market's services share: the limits on posts, the refusals (MarketError, naming the form
field at fault) and what a post and a search are made of."""

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l

from timebank.errors import DomainError

TITLE_MAX = 100
DESCRIPTION_MAX = 4000
NOTE_MAX = 200
REASON_MAX = 500
CATEGORY_NAME_MAX = 60
MAX_MINUTES = 24 * 60
EXPIRY_WEEKS_RANGE = (1, 52)
REMIND_BEFORE = timedelta(days=7)
# "Once a day at most": a little under a day, so a daily job that runs a bit early still sends.
DIGEST_INTERVAL = timedelta(hours=20)
# A second identical post this soon is a double click or a retry, not a new post.
DUPLICATE_WINDOW = timedelta(minutes=10)
# What these actions mean to the member they touched (listed in timebank/registry.py).
AUDIT_LABELS = {
    "post.created": _l("placed a post"),
    "post.edited": _l("changed a post"),
    "post.paused": _l("paused a post"),
    "post.resumed": _l("put a post back online"),
    "post.closed": _l("closed a post"),
    "post.renewed": _l("renewed a post"),
    "post.moderated": _l("took a post out of the market"),
    "post.reinstated": _l("put a post back in the market"),
    "category.added": _l("added a category"),
    "category.renamed": _l("renamed a category"),
    "category.retired": _l("retired a category"),
    "category.restored": _l("brought back a category"),
    "category.merged": _l("merged two categories"),
    "market.expiry_changed": _l("changed how long posts stay online"),
}


class MarketError(DomainError):
    """A market action was refused; the message says why and what to do."""


class PostStateConflict(MarketError):
    """The post's state does not allow this now (closed, not online, not paused)."""

    code = "post_state_conflict"
    status = 409


@dataclass
class PostDetails:
    """What a person fills in for an offer or a request."""

    title: str
    category_id: int | None
    description: str = ""
    minutes: int | None = None
    is_gift: bool = False
    available_days: list[str] = field(default_factory=list)
    available_parts: list[str] = field(default_factory=list)
    available_note: str = ""
    area_id: int | None = None


@dataclass
class Filters:
    """What the listing is narrowed to; empty values mean 'everything'."""

    kind: str | None = None
    category_id: int | None = None
    area_id: int | None = None
    gifts_only: bool = False
    text: str = ""
    # Linked communities whose posts are listed too (timebank.communities.links); a category
    # filter then takes their category of the same kind.
    linked: tuple[int, ...] = ()
