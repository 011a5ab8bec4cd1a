"""Market rules, as one namespace for their callers (`from timebank.market import services`);
each part lives in its own module: rules (limits, refusals, what a post and a search are made
of), posts (placing, editing and the life of a post), finding (search and matching), scheduled
(reminders, expiry, the digest), categories (the community's categories and settings) and data
(the member's export and erasure). Services flush, never commit; they raise MarketError with a
sentence fit to show, naming the form field it is about when there is one."""

from timebank.market.categories import (
    add_category,
    merge_category,
    rename_category,
    resolve_category,
    restore_category,
    retire_category,
    set_post_expiry,
)
from timebank.market.data import export_member_posts, let_go_of_posts
from timebank.market.finding import (
    COUNT_LIMIT,
    PER_PAGE,
    Page,
    find_posts,
    listed_conditions,
    matching_offers,
    member_posts,
    recent_posts,
)
from timebank.market.posts import (
    close_post,
    create_post,
    edit_post,
    moderate_post,
    pause_post,
    reinstate_post,
    renew_post,
    resume_post,
)
from timebank.market.rules import (
    AUDIT_LABELS,
    CATEGORY_NAME_MAX,
    DESCRIPTION_MAX,
    DIGEST_INTERVAL,
    DUPLICATE_WINDOW,
    EXPIRY_WEEKS_RANGE,
    MAX_MINUTES,
    NOTE_MAX,
    REASON_MAX,
    REMIND_BEFORE,
    TITLE_MAX,
    Filters,
    MarketError,
    PostDetails,
    PostStateConflict,
)
from timebank.market.scheduled import queue_digests, remind_and_expire, set_digest

__all__ = [
    "TITLE_MAX",
    "DESCRIPTION_MAX",
    "NOTE_MAX",
    "REASON_MAX",
    "CATEGORY_NAME_MAX",
    "MAX_MINUTES",
    "EXPIRY_WEEKS_RANGE",
    "REMIND_BEFORE",
    "DIGEST_INTERVAL",
    "DUPLICATE_WINDOW",
    "AUDIT_LABELS",
    "MarketError",
    "PostStateConflict",
    "PostDetails",
    "Filters",
    "create_post",
    "edit_post",
    "pause_post",
    "resume_post",
    "close_post",
    "renew_post",
    "moderate_post",
    "reinstate_post",
    "PER_PAGE",
    "COUNT_LIMIT",
    "listed_conditions",
    "Page",
    "find_posts",
    "recent_posts",
    "matching_offers",
    "member_posts",
    "remind_and_expire",
    "set_digest",
    "queue_digests",
    "set_post_expiry",
    "add_category",
    "rename_category",
    "retire_category",
    "restore_category",
    "merge_category",
    "resolve_category",
    "export_member_posts",
    "let_go_of_posts",
]
