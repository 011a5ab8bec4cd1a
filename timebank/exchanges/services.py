"""The life of an exchange, as one namespace for its callers (`from timebank.exchanges import
services`); each part lives in its own module:

- rules: limits, the lock before a change, who may act, the words for each state;
- events: the conversation line, audit log and notifications each step leaves;
- single: propose, accept or decline, record the minutes, confirm, dispute, resolve, cancel;
- settlement: the ledger transaction posted with the state change, exactly once;
- group: group exchanges; slips: paper slips; scheduled: auto-confirm and expiry;
- conversation: messages and thank-you notes; reading: lists; settings: the community's settings;
- data: the member's export and what erasure lets go of.

Every state change locks the exchange row first (PostgreSQL: SELECT … FOR UPDATE; SQLite: the
write lock) and checks the state again under that lock, so of two requests at once only one can
move it. Settling posts the ledger transaction in the same database transaction as the state
change, with the key "exchange:<id>:settle": even a confirm that slipped past the lock could
not post twice. Services flush, never commit; they raise ExchangeError (or the ledger's
LimitExceeded when a balance limit refuses the settlement, in which case nothing changed).

Who may act: the participant themself, or a coordinator acting for them (`actor` is who did it,
`on_behalf_of` the participant); such acts are audit-logged. `actor=None` is the time bank itself
(the auto-confirm command)."""

from timebank.exchanges.conversation import post_message, thank, thankable, thanks_for, thread
from timebank.exchanges.data import export_member_exchanges, let_go_of_exchanges
from timebank.exchanges.group import create_group, settle_group
from timebank.exchanges.reading import exchanges_of, exchanges_query, open_disputes
from timebank.exchanges.room import NoRoom, Room, ask_coordinators, check_room, room_between
from timebank.exchanges.rules import (
    ANSWER_WITHIN,
    AUDIT_LABELS,
    AUTO_CONFIRM_DAYS_RANGE,
    DATE_RANGE,
    GROUP_MAX,
    MAX_MINUTES_RANGE,
    MESSAGE_MAX,
    REASON_MAX,
    SILENCE_MARGIN_RANGE,
    STATE_WORDS,
    THANKS_MAX,
    TITLE_MAX,
    check_minutes,
    settle_key,
)
from timebank.exchanges.scheduled import auto_confirm, due_for_auto_confirm, due_for_expiry, expire
from timebank.exchanges.settings import set_exchange_settings
from timebank.exchanges.single import (
    accept,
    agree,
    ask_for_help,
    cancel,
    confirm,
    decline,
    dispute,
    propose,
    record_minutes,
    resolve,
    silence_allows,
)
from timebank.exchanges.slips import record_paper_slip
from timebank.permissions import can_read_thread

__all__ = [
    "TITLE_MAX",
    "MESSAGE_MAX",
    "REASON_MAX",
    "THANKS_MAX",
    "GROUP_MAX",
    "DATE_RANGE",
    "AUTO_CONFIRM_DAYS_RANGE",
    "ANSWER_WITHIN",
    "MAX_MINUTES_RANGE",
    "SILENCE_MARGIN_RANGE",
    "STATE_WORDS",
    "AUDIT_LABELS",
    "settle_key",
    "check_minutes",
    "create_group",
    "settle_group",
    "propose",
    "accept",
    "decline",
    "cancel",
    "dispute",
    "record_minutes",
    "silence_allows",
    "confirm",
    "agree",
    "ask_for_help",
    "resolve",
    "due_for_auto_confirm",
    "auto_confirm",
    "due_for_expiry",
    "expire",
    "record_paper_slip",
    "post_message",
    "thread",
    "thank",
    "thankable",
    "thanks_for",
    "exchanges_of",
    "exchanges_query",
    "open_disputes",
    "set_exchange_settings",
    "export_member_exchanges",
    "let_go_of_exchanges",
    "can_read_thread",
    "NoRoom",
    "Room",
    "ask_coordinators",
    "check_room",
    "room_between",
]
