"""Exchange forms. They only read what was typed; the rules live in the services, which name the
field at fault ("minutes" errors are shown next to the hours box)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from timebank.exchanges.services import MESSAGE_MAX, REASON_MAX, THANKS_MAX, TITLE_MAX
from timebank.ledger.services import KEY_MAX
from timebank.web.fields import RadioChoiceField, WholeNumberField, optional_int


class TimeForm(FlaskForm):
    """An amount of time as people type it: hours and minutes in two boxes."""

    hours = WholeNumberField(_l("Hours"))
    minutes = WholeNumberField(_l("Minutes"))

    def total(self) -> int | None:
        if self.hours.data is None and self.minutes.data is None:
            return None
        return (self.hours.data or 0) * 60 + (self.minutes.data or 0)

    def show(self, minutes: int | None) -> None:
        if minutes:
            self.hours.data, self.minutes.data = divmod(minutes, 60)


class KeyedForm(TimeForm):
    # Made when the form is shown: sending it twice moves the hours once.
    request_key = HiddenField(validators=[DataRequired(), Length(max=KEY_MAX - 10)])


class ProposeForm(TimeForm):
    date = DateField(_l("On which day? (if you know)"), validators=[Optional()])
    message = TextAreaField(_l("Message"), render_kw={"rows": 3, "maxlength": MESSAGE_MAX})


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Why?"), render_kw={"rows": 2, "maxlength": REASON_MAX})


class ConfirmForm(TimeForm):
    override_reason = TextAreaField(
        _l("Let it go past the limit this once, because…"), render_kw={"rows": 2, "maxlength": REASON_MAX}
    )


class MessageForm(FlaskForm):
    text = TextAreaField(
        _l("Your message"),
        validators=[DataRequired(_l("Please write a few words."))],
        render_kw={"rows": 3, "maxlength": MESSAGE_MAX},
    )


class ThanksForm(FlaskForm):
    to = SelectField(_l("Whom do you thank?"), coerce=optional_int, validate_choice=False)
    # Its own id: the message form on the same page has a field called text too.
    text = TextAreaField(
        _l("Your thank-you note"),
        validators=[DataRequired(_l("Please write a few words."))],
        id="thanks-text",
        render_kw={"rows": 2, "maxlength": THANKS_MAX},
    )


class ResolveForm(TimeForm):
    decision = RadioChoiceField(
        _l("What do you decide?"),
        choices=[
            SelectChoice("settle", _l("Settle it: the hours move")),
            SelectChoice("cancel", _l("Cancel it: no hours move")),
        ],
        default="settle",
    )
    reason = TextAreaField(_l("Your reason (both members read it)"), render_kw={"rows": 3, "maxlength": REASON_MAX})
    override = BooleanField(_l("Let it go past a balance limit this once"))


class GroupForm(TimeForm):
    role = RadioChoiceField(
        _l("What do you do?"),
        choices=[
            SelectChoice("provider", _l("I give the help (for example a lesson): each of them pays me")),
            SelectChoice("receiver", _l("I get the help (for example moving house): I pay each of them")),
        ],
    )
    title = StringField(_l("What do you do together?"), render_kw={"maxlength": TITLE_MAX})
    date = DateField(_l("On which day? (if you know)"), validators=[Optional()])
    message = TextAreaField(_l("Message to everyone"), render_kw={"rows": 3, "maxlength": MESSAGE_MAX})


class GiveForm(KeyedForm):
    memo = StringField(_l("A few words (optional)"), render_kw={"maxlength": REASON_MAX})


class GrantForm(KeyedForm):
    reason = TextAreaField(_l("Why? (the member reads this)"), render_kw={"rows": 2, "maxlength": REASON_MAX})


class SlipForm(KeyedForm):
    title = StringField(_l("What was done?"), render_kw={"maxlength": TITLE_MAX})
    date = DateField(_l("On which day?"), validators=[Optional()])
    note = TextAreaField(_l("Note (optional)"), render_kw={"rows": 2, "maxlength": MESSAGE_MAX})


class SettingsForm(FlaskForm):
    auto_confirm_days = WholeNumberField(_l("Days before recorded time is settled by itself"))
    max_hours = WholeNumberField(_l("Most hours one exchange can move"))
    silence_margin_percent = WholeNumberField(_l("How much more than agreed may settle by itself (%)"))
