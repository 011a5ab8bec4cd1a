"""Forms for joining, signing in, profiles and the coordinators' decisions.

The forms check what a browser can be told at once (required, length); the services check the
rest, so the command line and the API get the same rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    PasswordField,
    SearchField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from timebank.db import db_int
from timebank.members.passwords import MAX_LENGTH
from timebank.members.services import BIO_MAX, MOTIVATION_MAX, NAME_MAX, REASON_MAX
from timebank.web.fields import CHOOSE, REQUIRED, ChoiceField, RadioChoiceField, at_most, email_field


def name_field(label=_l("Your name")) -> StringField:
    return StringField(
        label, validators=[DataRequired(REQUIRED), at_most(NAME_MAX)], render_kw={"autocomplete": "name"}
    )


def new_password_field(label=_l("Password")) -> PasswordField:
    return PasswordField(
        label, validators=[DataRequired(REQUIRED), at_most(MAX_LENGTH)], render_kw={"autocomplete": "new-password"}
    )


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (rendered as a fieldset by the `field` macro)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, invalid_choice_message=CHOOSE, **kwargs)


def optional_int(value):
    return db_int(value) if value not in (None, "", "None") else None


class LoginForm(FlaskForm):
    email = email_field()
    password = PasswordField(_l("Password"), validators=[DataRequired(), at_most(1024)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class RegisterForm(FlaskForm):
    name = name_field()
    email = email_field()
    password = new_password_field()
    locale = ChoiceField(_l("Language for the website and emails"))
    motivation = TextAreaField(
        _l("Why do you want to join, and what could you offer your neighbours?"), validators=[at_most(MOTIVATION_MAX)]
    )
    answer = TextAreaField(_l("Your answer"), validators=[at_most(MOTIVATION_MAX)])
    accept_rules = BooleanField(_l("I have read the house rules and I accept them"))


class EmailForm(FlaskForm):
    email = email_field()


class NewPasswordForm(FlaskForm):
    password = new_password_field(_l("New password"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Your current password"), validators=[DataRequired(REQUIRED)], render_kw={"autocomplete": "current-password"}
    )
    new_password = new_password_field(_l("New password"))


class ChangeEmailForm(FlaskForm):
    email = email_field(_l("New email address"))
    current_password = PasswordField(
        _l("Your password"), validators=[DataRequired(REQUIRED)], render_kw={"autocomplete": "current-password"}
    )


class ProfileForm(FlaskForm):
    name = name_field(_l("Name"))
    bio = TextAreaField(_l("About you"), validators=[at_most(BIO_MAX)])
    skills = MultiCheckboxField(_l("I can help with"), coerce=int)
    languages = MultiCheckboxField(_l("Languages I speak"))
    area = ChoiceField(_l("Where in the neighbourhood"), coerce=optional_int, validators=[Optional()])
    phone = TelField(_l("Phone number"), validators=[at_most(40)], render_kw={"autocomplete": "tel"})
    locale = ChoiceField(_l("Language for the website and emails"))
    photo = FileField(_l("Photo"), render_kw={"accept": "image/jpeg,image/png,image/webp,image/gif"})
    remove_photo = BooleanField(_l("Remove my photo"))


AUDIENCE_CHOICES = [
    SelectChoice("coordinators", _l("Only the coordinators")),
    SelectChoice("community", _l("All members of my neighbourhood")),
]


class PrivacyForm(FlaskForm):
    show_email_to = RadioChoiceField(_l("Who may see my email address?"), choices=AUDIENCE_CHOICES)
    show_phone_to = RadioChoiceField(_l("Who may see my phone number?"), choices=AUDIENCE_CHOICES)
    show_balance_to = RadioChoiceField(_l("Who may see how many hours I have?"), choices=AUDIENCE_CHOICES)


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[at_most(REASON_MAX)])


class AssistedMemberForm(FlaskForm):
    name = name_field(_l("Name"))
    phone = TelField(_l("Phone number"), validators=[at_most(40)])
    area = ChoiceField(_l("Where in the neighbourhood"), coerce=optional_int, validators=[Optional()])
    locale = ChoiceField(_l("Language"))
    bio = TextAreaField(_l("About them"), validators=[at_most(BIO_MAX)])


class DirectoryForm(FlaskForm):
    class Meta:
        csrf = False  # a search (GET) changes nothing

    q = SearchField(_l("Name"), validators=[at_most(NAME_MAX)])
    skill = ChoiceField(_l("Can help with"), coerce=optional_int, validators=[Optional()])
    area = ChoiceField(_l("Area"), coerce=optional_int, validators=[Optional()])
