"""Forms of the pots pages. They read what was typed; the services check it."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, StringField
from wtforms.validators import DataRequired, Length

from timebank.exchanges.forms import KeyedForm
from timebank.market.forms import WholeNumberField
from timebank.members.forms import RadioChoiceField
from timebank.pots.services import MEMO_MAX, NAME_MAX


class NewPotForm(FlaskForm):
    name = StringField(
        _l("What are you saving for?"),
        validators=[DataRequired(), Length(max=NAME_MAX)],
        render_kw={"maxlength": NAME_MAX},
    )
    goal_hours = WholeNumberField(_l("How many hours do you need?"), validators=[DataRequired()])


class MoveForm(KeyedForm):
    direction = RadioChoiceField(
        _l("Which way?"),
        default="in",
        choices=[
            SelectChoice("in", _l("From my account into the pot")),
            SelectChoice("out", _l("From the pot back to my account")),
        ],
    )


class ShareForm(FlaskForm):
    share_percent = WholeNumberField(_l("Share of every exchange you are paid for (percent)"))


class SpendForm(KeyedForm):
    """Who gets the hours is chosen in the address (`to`: a member's id, or "fund"), with the picker."""

    memo = StringField(_l("A few words (optional)"), render_kw={"maxlength": MEMO_MAX})


class CloseForm(FlaskForm):
    """Only the CSRF token: closing needs no more than a click."""
