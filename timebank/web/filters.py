"""Template filters every page shares: text as people read it, and how long ago (the dates
themselves: timebank/i18n.py)."""

from datetime import datetime

from babel.dates import TIMEDELTA_UNITS
from flask_babel import format_timedelta, get_locale
from markupsafe import Markup, escape

from timebank.db import utcnow
from timebank.i18n import remembered


def nl2br(text: str | None) -> Markup:
    """Plain text with its line breaks kept; everything else escaped."""
    return Markup("<br>\n").join(escape(line) for line in (text or "").split("\n"))


def first_name(name: str) -> str:
    return (name or "").split(" ")[0]


# "3 days ago" by (locale, unit, number, past or future): Babel's words depend on nothing else,
# and a list of posts asked Babel the same few phrases for every row (up to a tenth of the page).
_AGO: dict[tuple, str] = {}
_THRESHOLD = 0.85  # Babel's: from 0.85 of a unit on, it is said in that unit


def _said_as(seconds: float) -> tuple[str, int, bool]:
    """The unit and number Babel's format_timedelta chooses, with granularity "minute"."""
    for unit, per_unit in TIMEDELTA_UNITS:
        value = abs(seconds) / per_unit
        if value >= _THRESHOLD or unit == "minute":
            if unit == "minute" and value > 0:
                value = max(1, value)
            return unit, int(round(value)), seconds >= 0
    raise AssertionError("minute is one of Babel's units")


def ago(moment: datetime) -> str:
    """'3 days ago'."""
    delta = moment - utcnow()
    return remembered(
        _AGO,
        (str(get_locale()), *_said_as(delta.total_seconds())),
        lambda: format_timedelta(delta, granularity="minute", add_direction=True),
    )


def register_filters(app) -> None:
    app.jinja_env.filters.update(nl2br=nl2br, first_name=first_name, ago=ago)
