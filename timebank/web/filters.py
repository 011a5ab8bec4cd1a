"""Template filters every page shares: dates, times and text as people read them."""
from datetime import datetime

from flask_babel import format_date, format_timedelta, to_user_timezone
from markupsafe import Markup, escape

from timebank.db import utcnow


def nl2br(text: str | None) -> Markup:
    """Plain text with its line breaks kept; everything else escaped."""
    return Markup("<br>\n").join(escape(line) for line in (text or "").split("\n"))


def first_name(name: str) -> str:
    return (name or "").split(" ")[0]


def day(moment: datetime) -> str:
    """A date as people write it, in their time zone: '26 November 2026'."""
    return format_date(to_user_timezone(moment), "long")


def ago(moment: datetime) -> str:
    """'3 days ago'."""
    return format_timedelta(moment - utcnow(), granularity="minute", add_direction=True)


def register_filters(app) -> None:
    app.jinja_env.filters.update(nl2br=nl2br, first_name=first_name, day=day, ago=ago)
