"""Language choice, and the way numbers of minutes and dates are said to people."""

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError, dates
from flask import current_app, has_request_context, request, session
from flask_babel import force_locale, format_number, get_locale, ngettext
from flask_login import current_user


def select_locale() -> str:
    """The member's own preference, then the switch in the page, then the browser's languages."""
    if not has_request_context():  # commands and background work: the installation's language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and getattr(current_user, "locale", None) in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def in_installation_language(text) -> str:
    """Words stored once for every reader (an erased member's new name, a reason the time bank
    gave) are kept in the installation's language, not in that of whoever caused them."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(text)


def text_direction() -> str:
    """'rtl' for Arabic, Hebrew, Persian…; 'ltr' otherwise."""
    return Locale.parse(str(get_locale())).text_direction


def language_name(code: str, in_locale: str | None = None) -> str:
    """A language's name in that language itself (so everyone can find their own), or in the
    reader's language when `in_locale` is given."""
    name = Locale.parse(code).get_display_name(in_locale or code) or code
    return name[:1].upper() + name[1:]


def remembered(store: dict, key: tuple, say) -> str:
    """`say()`, kept in `store` under `key`: lists say the same few amounts, days and times on
    every row, and asking the catalogue or Babel again each time was up to a fifth of a page. The
    key must hold everything the words depend on (the language first); the store stays bounded."""
    said = store.get(key)
    if said is None:
        if len(store) > 8192:
            store.clear()
        said = store[key] = say()
    return said


_SAID_MINUTES: dict[tuple, str] = {}
_SAID_DAYS: dict[tuple, str] = {}
_SAID_CLOCKS: dict[tuple, str] = {}


def format_minutes(minutes: int | None) -> str:
    """Say an amount of time as people say it: '1 hour 30 minutes', '−45 minutes'."""
    if minutes is None:
        return ""
    return remembered(_SAID_MINUTES, (str(get_locale()), minutes), lambda: _say_minutes(minutes))


def _say_minutes(minutes: int) -> str:
    sign = "−" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    parts = []
    if hours:
        # Grouped as the language groups digits: a neighbourhood's year is "15.673 uur" in Dutch.
        parts.append(ngettext("%(count)s hour", "%(count)s hours", hours, count=format_number(hours)))
    if rest or not hours:
        parts.append(ngettext("%(num)d minute", "%(num)d minutes", rest))
    return sign + " ".join(parts)


@lru_cache(maxsize=64)
def _conventions(language: str, region: str | None) -> Locale:
    if region:
        try:
            return Locale.parse(f"{language}_{region}")
        except (UnknownLocaleError, ValueError):
            pass
    return Locale.parse(language)


def conventions() -> Locale:
    """The reader's language written as the community writes dates (LOCALE_REGION): English
    readers in a Dutch neighbourhood get "4 Dec 2026, 15:20", not the American "Dec 4, 2026"."""
    return _conventions(get_locale().language, current_app.config.get("LOCALE_REGION"))


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(moment):
    """The moment on the community's clocks (BABEL_DEFAULT_TIMEZONE: the installation has one time
    zone), without Flask-Babel's per-call look-up of the request's time zone."""
    if not isinstance(moment, datetime):
        return moment
    if moment.tzinfo is None:  # as Flask-Babel reads it
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def format_day(moment, width: str = "long") -> str:
    """A date: '4 December 2026' (long) or '4 Dec 2026' (medium), in the community's time zone."""
    local = _local(moment)
    day = local.date() if isinstance(local, datetime) else local
    locale = conventions()
    return remembered(_SAID_DAYS, (str(locale), day, width), lambda: dates.format_date(day, width, locale=locale))


def format_clock(moment: datetime) -> str:
    """The time of day: '15:20'."""
    local = _local(moment)
    locale = conventions()
    return remembered(
        _SAID_CLOCKS,
        (str(locale), local.hour, local.minute),
        lambda: dates.format_time(local, "short", locale=locale),
    )


def format_moment(moment: datetime) -> str:
    """A date and time: '4 Dec 2026, 15:20'."""
    pattern = dates.get_datetime_format("medium", locale=conventions()).replace("'", "")
    return pattern.format(format_clock(moment), format_day(moment, "medium"))


def _datetime_filter(moment: datetime, width: str | None = None) -> str:
    if width in (None, "short", "medium"):
        return format_moment(moment)
    return dates.format_datetime(_local(moment), width, locale=conventions())


def _time_filter(moment: datetime, width: str = "short") -> str:
    return dates.format_time(_local(moment), width, locale=conventions())


def register_i18n(app) -> None:
    """Runs after Flask-Babel's set-up: its date filters (`datetimeformat`, `dateformat`,
    `timeformat`) are replaced by these, which follow LOCALE_REGION, so every template's dates do."""
    app.jinja_env.filters["minutes"] = format_minutes
    app.jinja_env.filters.update(
        day=format_day,
        datetimeformat=_datetime_filter,
        dateformat=lambda moment, width="medium": format_day(moment, width),
        timeformat=_time_filter,
    )
    app.jinja_env.filters["language"] = lambda code: language_name(code, str(get_locale()))

    @app.context_processor
    def inject_locale():
        return {
            "current_locale": str(get_locale()),
            "text_direction": text_direction(),
            "languages": [(code, language_name(code)) for code in app.config["LANGUAGES"]],
        }
