"""The coordinator's ledger forms: undoing a transaction, the community's rules for hours, and one
account's own limits and pause. They only read what was typed; the services check it. Amounts
are typed as hours and minutes in two boxes, as in every other form, and limits below zero as
"how much may be owed", never with a minus sign."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length

from timebank.ledger.services import KEY_MAX, MEMO_MAX
from timebank.web.fields import RadioChoiceField, WholeNumberField

REASON_REQUIRED = _l("Please write down why.")


class UndoForm(FlaskForm):
    reason = TextAreaField(_l("Why is this transaction undone?"), validators=[DataRequired(), Length(max=MEMO_MAX)])
    # Made when the form is shown: sending the form twice undoes the transaction once.
    request_key = HiddenField(validators=[DataRequired(), Length(max=KEY_MAX)])


def typed_minutes(hours: WholeNumberField, minutes: WholeNumberField) -> int | None:
    """The minutes in an hours box and a minutes box; None when both are empty."""
    if hours.data is None and minutes.data is None:
        return None
    return (hours.data or 0) * 60 + (minutes.data or 0)


def show_minutes(hours: WholeNumberField, minutes: WholeNumberField, value: int | None) -> None:
    """Put a number of minutes into the two boxes (zero as "0 hours"); None leaves them empty."""
    if value is not None:
        whole, rest = divmod(value, 60)
        hours.data, minutes.data = whole, rest or None


class LimitsForm(FlaskForm):
    """Limits as amounts of time; `floor()` and `ceiling()` give the balances the service takes."""

    owe_hours = WholeNumberField(_l("Hours"))
    owe_minutes = WholeNumberField(_l("Minutes"))
    save_hours = WholeNumberField(_l("Hours"))
    save_minutes = WholeNumberField(_l("Minutes"))

    def floor(self) -> int | None:
        owed = typed_minutes(self.owe_hours, self.owe_minutes)
        return None if owed is None else -owed

    def ceiling(self) -> int | None:
        return typed_minutes(self.save_hours, self.save_minutes)

    def show_limits(self, floor: int | None, ceiling: int | None) -> None:
        show_minutes(self.owe_hours, self.owe_minutes, None if floor is None else -floor)
        show_minutes(self.save_hours, self.save_minutes, ceiling)


class LedgerSettingsForm(LimitsForm):
    warning_hours = WholeNumberField(_l("Hours"))
    warning_minutes = WholeNumberField(_l("Minutes"))
    warning_side = RadioChoiceField(
        _l("Is that amount owed or saved?"),
        choices=[
            SelectChoice("owed", _l("Owed: below zero")),
            SelectChoice("saved", _l("Saved: above zero")),
        ],
        default="owed",
    )
    levy_percent = WholeNumberField(_l("Share of each exchange for the community fund, in percent"))

    def warning(self) -> int | None:
        amount = typed_minutes(self.warning_hours, self.warning_minutes)
        return None if amount is None else (-amount if self.warning_side.data == "owed" else amount)

    def show_warning(self, warning: int | None) -> None:
        if warning is not None:
            self.warning_side.data = "owed" if warning < 0 else "saved"
            show_minutes(self.warning_hours, self.warning_minutes, abs(warning))


class AccountLimitsForm(LimitsForm):
    reason = TextAreaField(
        _l("Why? (the member sees it)"), validators=[DataRequired(REASON_REQUIRED), Length(max=MEMO_MAX)]
    )


class AccountStatusForm(FlaskForm):
    reason = TextAreaField(
        _l("Why? (the member sees it)"), validators=[DataRequired(REASON_REQUIRED), Length(max=MEMO_MAX)]
    )
