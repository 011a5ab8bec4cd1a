"""Templates translate through the request's catalogue, found once per rendering: `_`,
`gettext` and `ngettext` are bound to it by a context processor. Flask-Babel's own template
functions look the catalogue up again for every string (the app context, the locale and its
name each time: about 10 µs a string on the 2-core server), which made a list with a few
translated words per row slow. Macros imported without context keep Flask-Babel's functions."""

from collections import ChainMap
from collections.abc import Callable

from flask import current_app, request, url_for
from flask.templating import Environment as FlaskEnvironment
from flask_babel import get_translations
from jinja2.ext import _make_new_gettext, _make_new_ngettext
from markupsafe import Markup, escape
from wtforms import widgets


class Environment(FlaskEnvironment):
    """Every `{% from "_forms.html" import … %}` compares the importing template's globals with the
    imported one's (Jinja reuses the imported module when they have the same names). Through a
    ChainMap's keys that is a Python-level test per name: about 70 µs an import for our 68 globals,
    and pages import two to four times. A set of the names does it in 2 µs; the ChainMap stays, so
    the environment's globals still show through as Jinja intends."""

    def make_globals(self, d):
        return _Globals(d or {}, self.globals)


class _Globals(ChainMap):
    def keys(self):
        return set().union(*self.maps)


_ROW = 987654321  # stands for the row's value while the address is built once


def url_rows(endpoint: str, key: str, **values) -> Callable[[int], str]:
    """`url_for(endpoint, key=value, **values)` for every row of a list, routed once: the list's
    addresses differ only in the row's value (a post's id, a category's). Building each with
    url_for cost a tenth of the market listing's time."""
    prefix, suffix = url_for(endpoint, **{key: _ROW}, **values).split(str(_ROW))
    return lambda value: f"{prefix}{int(value)}{suffix}"


# Addresses by (endpoint, script root, values): the same for every request a process serves.
_FIXED: dict[tuple, str] = {}


def fixed_url(endpoint: str, **values) -> str:
    """`url_for` for the addresses every page repeats (the menu's, the style sheet's), routed once
    per process: about twenty of them were a tenth of a simple page. Routed every time while
    debugging, where static files (and so their versions) change under a running server."""
    if current_app.debug:
        return url_for(endpoint, **values)
    key = (endpoint, request.script_root, *sorted(values.items()))
    found = _FIXED.get(key)
    if found is None:
        found = _FIXED[key] = url_for(endpoint, **values)
    return found


def register_url_rows(app) -> None:
    app.jinja_env.globals.update(url_rows=url_rows, fixed_url=fixed_url)


def register_bound_gettext(app) -> None:
    @app.context_processor
    def bound_gettext():
        translations = get_translations()
        gettext = _make_new_gettext(translations.ugettext)
        return {"_": gettext, "gettext": gettext, "ngettext": _make_new_ngettext(translations.ungettext)}


def html_params(**attributes) -> Markup:
    """WTForms' `html_params`, the same output four times faster: WTForms 3.3 builds each
    attribute with `Markup.format`, about 35 µs a checkbox's attributes against 8 µs here, and a
    form of checkboxes (skills, languages, kinds of email) has ninety: 30 % of those settings pages.
    Keys and values are escaped as there; a value's double quotes become `&quot;` even when it is
    Markup. tests/test_templating.py holds it to WTForms' own output."""
    params = []
    for key, value in sorted(attributes.items()):
        name = escape(widgets.core.clean_key(key))
        if value is True:
            params.append(name)
        elif value is not False:
            params.append(f'{name}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))  # nosec B704: every key and value above went through escape()


def register_fast_form_attributes() -> None:
    """Inputs and buttons hold `html_params` as their own attribute, the other widgets and labels
    look it up in their module when they render: replaced in those four places. Process-wide, as
    WTForms is."""
    widgets.core.html_params = widgets.html_params = html_params
    widgets.core.Input.html_params = widgets.core.Button.html_params = staticmethod(html_params)
