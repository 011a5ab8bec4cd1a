"""Template filters every page shares: text as people read it, and how long ago (the dates
themselves: timebank/i18n.py)."""

from datetime import datetime

from flask_babel import format_timedelta
from markupsafe import Markup, escape

from timebank.db import utcnow


def nl2br(text: str | None) -> Markup:
    """Plain text with its line breaks kept; everything else escaped."""
    return Markup("<br>\n").join(escape(line) for line in (text or "").split("\n"))


def first_name(name: str) -> str:
    return (name or "").split(" ")[0]


def ago(moment: datetime) -> str:
    """'3 days ago'."""
    return format_timedelta(moment - utcnow(), granularity="minute", add_direction=True)


def register_filters(app) -> None:
    app.jinja_env.filters.update(nl2br=nl2br, first_name=first_name, ago=ago)
