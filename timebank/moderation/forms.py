"""Forms for reporting, deciding and replying. They read what was typed; the services check it."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from timebank.members.forms import CHOOSE, REQUIRED, RadioChoiceField, at_most
from timebank.moderation.services import DECISION_LABELS, REASON_LABELS, REASON_MAX, REPLY_MAX, TEXT_MAX


class ReportForm(FlaskForm):
    reason = RadioChoiceField(
        _l("What is wrong?"),
        validators=[DataRequired(CHOOSE)],
        choices=[SelectChoice(key, label) for key, label in REASON_LABELS.items()],
    )
    text = TextAreaField(_l("Tell the coordinators more (optional)"), validators=[Optional(), at_most(TEXT_MAX)])


class DecisionForm(FlaskForm):
    decision = RadioChoiceField(
        _l("What do you decide?"),
        validators=[DataRequired(CHOOSE)],
        choices=[SelectChoice(key, label) for key, label in DECISION_LABELS.items()],
    )
    reason = TextAreaField(
        _l("The reason, in plain words (the author reads it)"), validators=[Optional(), Length(max=REASON_MAX)]
    )


class ReplyForm(FlaskForm):
    text = TextAreaField(_l("Your reply (you can reply once)"), validators=[DataRequired(REQUIRED), at_most(REPLY_MAX)])
