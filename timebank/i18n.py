"""Language choice and the way numbers of minutes are said to people."""
from babel import Locale
from flask import current_app, has_request_context, request, session
from flask_babel import force_locale, get_locale, ngettext
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


def format_minutes(minutes: int | None) -> str:
    """Say an amount of time as people say it: '1 hour 30 minutes', '−45 minutes'."""
    if minutes is None:
        return ""
    sign = "−" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    parts = []
    if hours:
        parts.append(ngettext("%(num)d hour", "%(num)d hours", hours))
    if rest or not hours:
        parts.append(ngettext("%(num)d minute", "%(num)d minutes", rest))
    return sign + " ".join(parts)


def register_i18n(app) -> None:
    app.jinja_env.filters["minutes"] = format_minutes
    app.jinja_env.filters["language"] = lambda code: language_name(code, str(get_locale()))

    @app.context_processor
    def inject_locale():
        return {
            "current_locale": str(get_locale()),
            "text_direction": text_direction(),
            "languages": [(code, language_name(code)) for code in app.config["LANGUAGES"]],
        }
