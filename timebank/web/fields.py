"""Form fields and choices that forms of several domains share, so no domain's forms borrow
from another's."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from timebank.db import db_int
from timebank.i18n import language_name

REQUIRED = _l("Please fill this in.")
CHOOSE = _l("Please choose from the list.")


def at_most(characters: int) -> Length:
    return Length(max=characters, message=_l("Please use at most %(max)d characters."))


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the options of a select or a group of checkboxes."""
    return [SelectChoice(value, label) for value, label in pairs]


def optional_int(value) -> int | None:
    """Select values: a number, or None for '' and anything that is not a number an id can be."""
    try:
        return db_int(value)
    except (TypeError, ValueError):
        return None


def language_choices() -> list[tuple[str, str]]:
    """The languages the time bank speaks, each named in itself."""
    return [(code, language_name(code)) for code in current_app.config["LANGUAGES"]]


def stripped(value):
    return value.strip() if isinstance(value, str) else value


def email_field(label=_l("Email address")) -> EmailField:
    """Phone keyboards often add a space after a suggested address; it is not part of it."""
    return EmailField(
        label,
        filters=[stripped],
        render_kw={"autocomplete": "email"},
        validators=[
            DataRequired(REQUIRED),
            Email(_l("Please fill in a valid email address, like name@example.org.")),
            at_most(254),
        ],
    )


class WholeNumberField(StringField):
    """A number typed on a phone's number pad; empty means 'not given'. What was typed stays in
    the box when it is not a number."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric", "autocomplete": "off"})
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if text:
            try:
                self.data = int(text)
            except ValueError:
                raise ValueError(_l("Please fill in a whole number, for example 2.")) from None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class ChoiceField(SelectField):
    """A drop-down list whose refusal is said in plain words."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, invalid_choice_message=CHOOSE, **kwargs)


class RadioChoiceField(RadioField):
    """Radio buttons whose refusal is said in plain words."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, invalid_choice_message=CHOOSE, **kwargs)
