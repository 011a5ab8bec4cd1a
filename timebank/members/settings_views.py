"""A member's own settings: profile, privacy, password, email address, sessions, their data and its
erasure.

Profile, privacy, data and "done for you" work on `acting_member()`, so a coordinator who acts
for an assisted member uses the same pages, marked and audit-logged as done on their behalf.
Password, email address, sessions and erasure requests are for the logged-in member's own account
only."""

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_login.config import COOKIE_NAME

from timebank.audit.services import record
from timebank.db import db_int
from timebank.extensions import db, limiter, login_manager
from timebank.i18n import language_name
from timebank.members.acting import acting_member, logged_in_member, on_behalf_of
from timebank.members.export import as_csv_zip, as_json
from timebank.members.forms import ChangeEmailForm, ChangePasswordForm, PrivacyForm, ProfileForm
from timebank.members.login_limits import limit_failed_password_checks, record_failed_login
from timebank.members.models import Member
from timebank.members.services import (
    WrongPassword,
    change_password,
    done_for,
    log_out_everywhere,
    pending_email_change,
    request_email_change,
    request_erasure,
    start_session,
    update_privacy,
    update_profile,
)
from timebank.web.fields import language_choices
from timebank.web.submit import submit

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.before_request
def require_login():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def own_account_only():
    """Refuse while acting for someone: these pages change the coordinator's own account."""
    helped = on_behalf_of()
    if helped is not None:
        flash(_("This is about your own account. Stop acting for %(name)s first.", name=helped.name), "error")
        return redirect(url_for("settings.index"))
    return None


@bp.route("")
def index():
    return render_template("settings/index.html", member=acting_member())


def spoken_language_choices() -> list[tuple[str, str]]:
    locale = str(get_locale())
    return sorted(
        ((code, language_name(code, locale)) for code in current_app.config["SPOKEN_LANGUAGES"]),
        key=lambda choice: choice[1].lower(),
    )


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    member: Member = acting_member()
    community = member.community
    form = ProfileForm(obj=member if request.method == "GET" else None)
    categories = {c.id: c for c in community.categories if not c.retired_at}
    areas = {a.id: a for a in community.areas}
    form.skills.choices = [(c.id, c.name(str(get_locale()))) for c in categories.values()]
    form.languages.choices = spoken_language_choices()
    form.area.choices = [("", _("I would rather not say"))] + [(a.id, a.name) for a in areas.values()]
    form.locale.choices = language_choices()
    if request.method == "GET":
        form.skills.data = [c.id for c in member.skills]
        form.area.data = member.area_id
        form.locale.data = member.locale or str(get_locale())
    if form.validate_on_submit() and submit(
        lambda: update_profile(
            member,
            actor=logged_in_member(),
            name=form.name.data,
            bio=form.bio.data,
            phone=form.phone.data,
            area=areas.get(form.area.data),
            skills=[categories[i] for i in form.skills.data],
            languages=form.languages.data,
            locale=form.locale.data,
            photo=form.photo.data or None,
            remove_photo=form.remove_photo.data,
        ),
        form,
    ):
        flash(_("The profile is saved."), "success")
        return redirect(url_for("members.profile", member_id=member.id))
    return render_template("settings/profile.html", form=form, member=member), 422 if request.method == "POST" else 200


@bp.route("/privacy", methods=["GET", "POST"])
def privacy():
    member: Member = acting_member()
    form = PrivacyForm(obj=member if request.method == "GET" else None)
    if form.validate_on_submit() and submit(
        lambda: update_privacy(
            member,
            actor=logged_in_member(),
            email_to=form.show_email_to.data,
            phone_to=form.show_phone_to.data,
            balance_to=form.show_balance_to.data,
        ),
        form,
    ):
        flash(_("Your choices are saved."), "success")
        return redirect(url_for("settings.index"))
    return render_template("settings/privacy.html", form=form, member=member)


def counting_wrong_passwords(action):
    """A wrong password typed on a settings page counts as a failed login."""

    def run():
        try:
            return action()
        except WrongPassword:
            record_failed_login()
            raise

    return run


@bp.route("/password", methods=["GET", "POST"])
@limit_failed_password_checks
def password():
    if (refused := own_account_only()) is not None:
        return refused
    form = ChangePasswordForm()
    member = logged_in_member()

    def change_and_stay():
        change_password(member, current=form.current_password.data, new=form.new_password.data)
        start_session(member)

    if form.validate_on_submit() and submit(counting_wrong_passwords(change_and_stay), form):
        # Every other session has ended; this one continues with a new sign-in.
        remembered = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies
        login_user(member, remember=remembered)
        flash(_("Your password is changed. You are now logged out on all your other devices."), "success")
        return redirect(url_for("settings.index"))
    return render_template("settings/password.html", form=form)


def _sent_a_link(response) -> bool:
    return response.status_code == 302


@bp.route("/email", methods=["GET", "POST"])
@limit_failed_password_checks
@limiter.limit(lambda: current_app.config["EMAIL_LINK_LIMIT"], methods=["POST"], deduct_when=_sent_a_link)
def email():
    """A new address takes effect when the link sent to it is used (see `request_email_change`)."""
    if (refused := own_account_only()) is not None:
        return refused
    member = logged_in_member()
    form = ChangeEmailForm()
    if form.validate_on_submit():
        done = submit(
            counting_wrong_passwords(lambda: request_email_change(member, form.email.data, form.current_password.data)),
            form,
        )
        if done:
            new_email = done.value
            flash(
                _(
                    "We sent a link to %(email)s. Your address changes when you open that link. It works for "
                    "%(hours)d hours. Please look in your email, also in the spam folder.",
                    email=new_email,
                    hours=current_app.config["EMAIL_CHANGE_LINK_HOURS"],
                ),
                "success",
            )
            return redirect(url_for("settings.index"))
    return render_template("settings/email.html", form=form, member=member, pending=pending_email_change(member))


@bp.route("/logout-everywhere", methods=["POST"])
def logout_everywhere():
    if (refused := own_account_only()) is not None:
        return refused
    submit(lambda: log_out_everywhere(logged_in_member()))
    logout_user()
    flash(_("You are logged out on all your devices, also on this one."), "success")
    return redirect(url_for("members.login"))


@bp.route("/data")
def data():
    return render_template("settings/data.html", member=acting_member())


@bp.route("/data/export.<kind>", methods=["POST"])
def export(kind: str):
    """Download everything the time bank holds about the member (GDPR art. 15 and 20)."""
    member: Member = acting_member()
    if kind == "json":
        body, mimetype = as_json(member), "application/json"
    elif kind == "zip":
        body, mimetype = as_csv_zip(member), "application/zip"
    else:
        return redirect(url_for("settings.data"))
    submit(
        lambda: record(
            "member.data_exported", actor=current_user, on_behalf_of=on_behalf_of(), subject=member, format=kind
        )
    )
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="timebank-member-{member.id}.{kind}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/erasure", methods=["POST"])
def erasure():
    if (refused := own_account_only()) is not None:
        return refused
    submit(lambda: request_erasure(logged_in_member()))
    flash(
        _(
            "We have your request. A coordinator will erase your account soon and settle your hours "
            "first. You will get an email now; after the erasure you get no more emails."
        ),
        "success",
    )
    return redirect(url_for("settings.data"))


@bp.route("/done-for-you")
def history():
    """Everything others did in the member's name or decided about them, with who and why."""
    member: Member = acting_member()
    page = db.paginate(done_for(member), page=request.args.get("page", 1, type=db_int), per_page=50, error_out=False)
    return render_template("settings/history.html", member=member, page=page)
