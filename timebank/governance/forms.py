"""Forms of the cooperative's voting pages. They read what was typed; the services check it."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from timebank.governance.services import BODY_MAX, COMMENT_MAX, REASON_MAX, TITLE_MAX
from timebank.web.fields import ChoiceField, RadioChoiceField, WholeNumberField

RULE_CHOICES = [
    SelectChoice("ledger_floor", _l("How much a member may owe at most (minutes, 0 or below, e.g. -600)")),
    SelectChoice("ledger_ceiling", _l("How much a member may save at most (minutes)")),
    SelectChoice("ledger_levy_percent", _l("The share of every exchange for the community fund (percent)")),
    SelectChoice("post_expiry_weeks", _l("How many weeks an offer or request stays online")),
    SelectChoice("join_policy", _l("How people join: “approval” or “open”")),
]


class ProposalForm(FlaskForm):
    title = StringField(_l("What do you propose?"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    body = TextAreaField(_l("Explain it to your neighbours"), validators=[Optional(), Length(max=BODY_MAX)])
    choices = TextAreaField(_l("The answers, one on each line"), validators=[Optional(), Length(max=1200)])
    voting_days = WholeNumberField(_l("How many days can members vote?"), default=7)
    quorum_percent = WholeNumberField(
        _l("Quorum: how many members in 100 must vote for the result to count?"), default=0
    )
    secret = BooleanField(_l("Secret ballot: nobody can see who chose what"))
    kind = RadioChoiceField(
        _l("What happens when it is adopted?"),
        default="advisory",
        choices=[
            SelectChoice("advisory", _l("It is advice for the coordinators")),
            SelectChoice("grant", _l("Hours from the community fund go to a member")),
            SelectChoice("rule", _l("A rule of the neighbourhood changes")),
        ],
    )
    # Radio buttons for the member chosen and the names a search found, never the whole neighbourhood
    # (thousands of options in one list are slow to send and cannot be searched on a phone).
    grant_member_id = RadioChoiceField(_l("Choose who receives the hours"), coerce=str, validate_choice=False)
    grant_query = StringField(validators=[Optional(), Length(max=80)])
    grant_hours = WholeNumberField(_l("Hours"))
    grant_minutes = WholeNumberField(_l("Minutes"))
    rule = ChoiceField(_l("Which rule?"), choices=[SelectChoice("", "—")] + RULE_CHOICES, validate_choice=False)
    rule_value = StringField(_l("The new value"), validators=[Optional(), Length(max=30)])


class EditForm(FlaskForm):
    title = StringField(_l("What do you propose?"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    body = TextAreaField(_l("Explain it to your neighbours"), validators=[Optional(), Length(max=BODY_MAX)])
    voting_days = WholeNumberField(_l("How many days can members vote?"))
    quorum_percent = WholeNumberField(_l("Quorum: how many members in 100 must vote for the result to count?"))


class VoteForm(FlaskForm):
    option = RadioChoiceField(
        _l("Choose one answer"), coerce=int, validators=[DataRequired(_l("Please choose one of the answers."))]
    )
    receipt = StringField(_l("Your vote code (only to change a secret vote)"), validators=[Optional(), Length(max=40)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Why?"), validators=[DataRequired(_l("Please write down why.")), Length(max=REASON_MAX)])


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Your comment"), validators=[DataRequired(), Length(max=COMMENT_MAX)])


class SupportForm(FlaskForm):
    """Only the CSRF token: supporting is one button."""


class SettingsForm(FlaskForm):
    proposal_supporters = WholeNumberField(_l("How many neighbours must support a member's proposal?"))
