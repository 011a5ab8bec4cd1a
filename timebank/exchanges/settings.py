"""A community's settings for exchanges: the days before silence confirms, the most hours one
exchange may move, and the margin silence accepts."""

from flask_babel import lazy_gettext as _l

from timebank.audit.services import record
from timebank.communities.models import Community
from timebank.exchanges.errors import (
    ExchangeError,
    NotAllowed,
)
from timebank.exchanges.rules import AUTO_CONFIRM_DAYS_RANGE, MAX_MINUTES_RANGE, SILENCE_MARGIN_RANGE
from timebank.extensions import db
from timebank.i18n import format_minutes
from timebank.members.models import Member
from timebank.permissions import can_coordinate


def set_exchange_settings(
    community: Community,
    *,
    auto_confirm_days: int | None,
    max_minutes: int | None,
    silence_margin_percent: int | None,
    actor: Member,
) -> Community:
    """A coordinator sets the days before recorded time settles by itself, how far above the agreed
    time it still may (beyond that the receiver must confirm), and the most time one exchange may
    move. Exchanges under way keep their date."""
    if not can_coordinate(actor, community.id):
        raise NotAllowed(_l("Only a coordinator of this neighbourhood can change this."))
    for value, (low, high), field in (
        (auto_confirm_days, AUTO_CONFIRM_DAYS_RANGE, "auto_confirm_days"),
        (max_minutes, MAX_MINUTES_RANGE, "max_hours"),
        (silence_margin_percent, SILENCE_MARGIN_RANGE, "silence_margin_percent"),
    ):
        if value is None or not low <= value <= high:
            shown = (format_minutes(low), format_minutes(high)) if field == "max_hours" else (low, high)
            raise ExchangeError(_l("Please choose between %(low)s and %(high)s.", low=shown[0], high=shown[1]), field)
    before = [
        community.exchange_auto_confirm_days,
        community.exchange_max_minutes,
        community.exchange_silence_margin_percent,
    ]
    community.exchange_auto_confirm_days, community.exchange_max_minutes = auto_confirm_days, max_minutes
    community.exchange_silence_margin_percent = silence_margin_percent
    db.session.flush()
    record(
        "exchange.settings_changed",
        actor=actor,
        community_id=community.id,
        subject=community,
        before=before,
        after=[auto_confirm_days, max_minutes, silence_margin_percent],
    )
    return community
