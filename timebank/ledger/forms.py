"""The coordinator's form for undoing a transaction."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from timebank.ledger.services import KEY_MAX, MEMO_MAX


class UndoForm(FlaskForm):
    reason = TextAreaField(_l("Why is this transaction undone?"),
                           validators=[DataRequired(), Length(max=MEMO_MAX)])
    # Made when the form is shown: sending the form twice undoes the transaction once.
    request_key = HiddenField(validators=[DataRequired(), Length(max=KEY_MAX)])
