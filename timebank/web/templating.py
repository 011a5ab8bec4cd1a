"""Templates translate through the request's catalogue, found once per rendering: `_`,
`gettext` and `ngettext` are bound to it by a context processor. Flask-Babel's own template
functions look the catalogue up again for every string (the app context, the locale and its
name each time: about 10 µs a string on the 2-core server), which made a list with a few
translated words per row slow. Macros imported without context keep Flask-Babel's functions."""

from flask_babel import get_translations
from jinja2.ext import _make_new_gettext, _make_new_ngettext


def register_bound_gettext(app) -> None:
    @app.context_processor
    def bound_gettext():
        translations = get_translations()
        gettext = _make_new_gettext(translations.ugettext)
        return {"_": gettext, "gettext": gettext, "ngettext": _make_new_ngettext(translations.ungettext)}
