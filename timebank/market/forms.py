"""Market forms. They only read what was typed; the rules live in services, which name the field
that is wrong."""

from babel import Locale
from babel.dates import get_day_names
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired
from wtforms.widgets import CheckboxInput, ListWidget

from timebank.market.models import DAY_PARTS, DAYS
from timebank.market.services import CATEGORY_NAME_MAX, DESCRIPTION_MAX, NOTE_MAX, REASON_MAX, TITLE_MAX, PostDetails
from timebank.web.fields import WholeNumberField, choices, optional_int


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes; `field()` in _forms.html shows it as a fieldset."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PostForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Please give your post a short title."))],
        render_kw={"maxlength": TITLE_MAX},
    )
    category_id = SelectField(
        _l("Category"),
        coerce=optional_int,
        validate_choice=False,
        validators=[DataRequired(_l("Please choose a category."))],
    )
    description = TextAreaField(_l("Tell a bit more"), render_kw={"rows": 6, "maxlength": DESCRIPTION_MAX})
    is_gift = BooleanField(_l("This is a free gift: a thing to give away or to get, for 0 hours"))
    time_hours = WholeNumberField(_l("Hours"))
    time_minutes = WholeNumberField(_l("Minutes"))
    available_days = MultiCheckboxField(_l("Which days?"), validate_choice=False)
    available_parts = MultiCheckboxField(
        _l("What time of day?"),
        validate_choice=False,
        choices=choices(zip(DAY_PARTS, (_l("Mornings"), _l("Afternoons"), _l("Evenings")), strict=True)),
    )
    available_note = StringField(_l("Anything else about when?"), render_kw={"maxlength": NOTE_MAX})
    area_id = SelectField(_l("Where in the neighbourhood?"), coerce=optional_int, validate_choice=False)
    photo = FileField(_l("Photo"), render_kw={"accept": "image/*"})
    remove_photo = BooleanField(_l("Remove the photo"))

    def fill_choices(self, categories, areas, locale: str) -> None:
        days = get_day_names("wide", locale=locale)
        self.available_days.choices = choices((code, days[i].capitalize()) for i, code in enumerate(DAYS))
        self.category_id.choices = choices(
            [("", _l("Choose a category"))] + [(c.id, c.name(locale)) for c in categories]
        )
        self.area_id.choices = choices([("", _l("I'd rather not say"))] + [(a.id, a.name) for a in areas])

    def details(self) -> PostDetails:
        hours, minutes = self.time_hours.data, self.time_minutes.data
        total = None if hours is None and minutes is None else (hours or 0) * 60 + (minutes or 0)
        return PostDetails(
            title=self.title.data or "",
            category_id=self.category_id.data,
            description=self.description.data or "",
            minutes=total,
            is_gift=self.is_gift.data,
            available_days=self.available_days.data or [],
            available_parts=self.available_parts.data or [],
            available_note=self.available_note.data or "",
            area_id=self.area_id.data,
        )

    def show_minutes(self, minutes: int | None) -> None:
        """Put a stored number of minutes back into the hours and minutes boxes."""
        if minutes:
            self.time_hours.data, self.time_minutes.data = divmod(minutes, 60)


class ModerateForm(FlaskForm):
    reason = TextAreaField(
        _l("Why do you close this post?"),
        validators=[DataRequired(_l("Please write why you close this post. The owner will read it."))],
        render_kw={"rows": 3, "maxlength": REASON_MAX},
    )


class DigestForm(FlaskForm):
    enabled = BooleanField(_l("Email me new requests that match what I can do"))


class ExpiryForm(FlaskForm):
    weeks = WholeNumberField(
        _l("Weeks a post stays online"), validators=[InputRequired(_l("Please fill in a number of weeks."))]
    )


class MergeForm(FlaskForm):
    target_id = SelectField(_l("Merge into"), coerce=optional_int, validate_choice=False)


def category_form(**kwargs) -> FlaskForm:
    """A name box for every language the time bank offers."""
    locale = str(get_locale())

    class CategoryForm(FlaskForm):
        pass

    for code in current_app.config["LANGUAGES"]:
        label = _l("Name in %(language)s", language=Locale.parse(code).get_display_name(locale))
        setattr(
            CategoryForm,
            f"name_{code}",
            StringField(
                label,
                validators=[DataRequired(_l("Please fill in the name in every language."))],
                render_kw={"maxlength": CATEGORY_NAME_MAX, "lang": code},
            ),
        )
    return CategoryForm(**kwargs)


def category_names(form) -> dict[str, str]:
    return {code: form[f"name_{code}"].data or "" for code in current_app.config["LANGUAGES"]}
