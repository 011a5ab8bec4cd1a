"""Forms for a community's settings and for the administrator's pages."""

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired

from timebank.communities.models import TEXT_KINDS
from timebank.communities.services import TEXT_MAX
from timebank.i18n import language_name
from timebank.web.fields import REQUIRED, ChoiceField, RadioChoiceField, WholeNumberField, at_most, email_field

JOIN_POLICY_CHOICES = [
    SelectChoice("approval", _l("A coordinator accepts each new member")),
    SelectChoice("open", _l("Everyone can join after confirming their email address")),
]


TEXT_LABELS = {
    "house_rules": _l("House rules (%(language)s)"),
    "join_question": _l("Question on the join form (%(language)s)"),
    "contact": _l("How applicants reach a coordinator (%(language)s)"),
}


class CommunitySettingsForm(FlaskForm):
    name = StringField(_l("Name of the neighbourhood"), validators=[DataRequired(REQUIRED), at_most(100)])
    description = TextAreaField(_l("Description"), validators=[at_most(5000)])
    join_policy = RadioChoiceField(_l("How do people join?"), choices=JOIN_POLICY_CHOICES)


def community_settings_form(languages: list[str], **kwargs) -> CommunitySettingsForm:
    """The settings form with a box per community text and per enabled language, named
    `<kind>_<language>` (e.g. `house_rules_en`)."""

    class Form(CommunitySettingsForm):
        pass

    for kind in TEXT_KINDS:
        for code in languages:
            label = TEXT_LABELS[kind] % {"language": language_name(code, str(get_locale()))}
            setattr(Form, f"{kind}_{code}", TextAreaField(label, validators=[at_most(TEXT_MAX)]))
    return Form(**kwargs)


class AreaForm(FlaskForm):
    name = StringField(_l("Name of the area"), validators=[DataRequired(REQUIRED), at_most(80)])


class NewCommunityForm(FlaskForm):
    name = StringField(_l("Name of the neighbourhood"), validators=[DataRequired(REQUIRED), at_most(100)])
    slug = StringField(_l("Short name for web addresses"), validators=[DataRequired(REQUIRED), at_most(40)])
    join_policy = RadioChoiceField(_l("How do people join?"), choices=JOIN_POLICY_CHOICES, default="approval")


class AppointForm(FlaskForm):
    email = email_field(_l("Email address of the new coordinator"))


class ProposeLinkForm(FlaskForm):
    """A coordinator asks another neighbourhood to trade. The cap is typed in hours."""

    other = StringField(_l("Short name of the other neighbourhood"), validators=[DataRequired(REQUIRED), at_most(40)])
    cap_hours = WholeNumberField(
        _l("The most hours either neighbourhood may owe the other"), validators=[DataRequired(REQUIRED)]
    )
    see_posts = BooleanField(_l("Members see each other's offers and requests"), default=True)
    reason = TextAreaField(_l("Why trade with this neighbourhood?"), validators=[DataRequired(REQUIRED), at_most(500)])


class AdminLinkForm(FlaskForm):
    """The administrator links two neighbourhoods at once, or changes a link's cap and whether
    posts are seen. The choices are the communities (set by the page)."""

    first = ChoiceField(_l("One neighbourhood"), coerce=int)
    second = ChoiceField(_l("The other neighbourhood"), coerce=int)
    cap_hours = WholeNumberField(
        _l("The most hours either neighbourhood may owe the other"), validators=[DataRequired(REQUIRED)]
    )
    see_posts = BooleanField(_l("Members see each other's offers and requests"), default=True)
    reason = TextAreaField(_l("Why? Both neighbourhoods' coordinators read it."), validators=[at_most(500)])


class LinkAnswerForm(FlaskForm):
    """Accept, pause, resume or end a link; the reason is required except to accept."""

    reason = TextAreaField(_l("Reason"), validators=[at_most(500)])
