"""Joining, signing in and out, forgotten passwords, profiles and the member directory."""

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from timebank.audit.models import AuditEvent
from timebank.audit.services import action_label
from timebank.communities.models import Community
from timebank.communities.services import default_community
from timebank.db import db_int
from timebank.errors import DomainError
from timebank.extensions import db, limiter, login_manager
from timebank.ledger.position import balances_of
from timebank.members.acting import acting_member, on_behalf_of
from timebank.members.forms import DirectoryForm, EmailForm, LoginForm, NewPasswordForm, RegisterForm
from timebank.members.login_limits import (
    forget_failures,
    is_known_device,
    limit_failed_logins,
    please_wait,
    record_failed_login,
    remember_device,
    wait_before_trying,
)
from timebank.members.models import Member
from timebank.members.passwords import hash_password, needs_rehash, verify_password
from timebank.members.services import (
    MemberError,
    community_languages,
    confirm_email,
    confirm_email_change,
    directory_page,
    end_session,
    first_steps,
    join_problems,
    member_of_session,
    pending_join_request,
    put_first_steps_away,
    register_member,
    request_password_reset,
    resend_confirmation,
    reset_password,
    start_session,
    understood_hours,
    undo_email_change,
    usual_wait_days,
)
from timebank.members.sign_in_log import log_sign_in
from timebank.members.tokens import TokenError, check_token
from timebank.moderation.models import hidden_ids
from timebank.permissions import is_member_of
from timebank.web.fields import language_choices
from timebank.web.guards import safe_next
from timebank.web.submit import submit

bp = Blueprint("members", __name__)

# The applicant whose join request this browser may look at (after registering or logging in).
APPLICANT_KEY = "applicant_id"
# The address someone just joined with, for the "check your email" page.
JOIN_EMAIL_KEY = "join_email"
PER_PAGE = 20


login_manager.user_loader(member_of_session)


@bp.app_context_processor
def inject_acting():
    """Templates call `helped_member()` for the banner shown while acting for someone, and
    `page_member()` for whose name, balance and impact a member page shows: the member acted for,
    so a coordinator at a help desk never reads out their own figures by mistake."""
    return {"helped_member": on_behalf_of, "page_member": acting_member}


bp.add_app_template_filter(action_label, "action_label")
bp.add_app_template_global(first_steps, "first_steps")

STATUS_LABELS = {
    "pending": _l("waiting to join"),
    "active": _l("active"),
    "suspended": _l("paused"),
    "rejected": _l("not accepted"),
    "erased": _l("erased"),
}


@bp.app_template_global()
def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


# Signing in and out.


def _email_link_limit() -> str:
    return current_app.config["EMAIL_LINK_LIMIT"]


def _typed_email() -> str:
    """Limits per email address typed, so rotating addresses cannot flood one inbox."""
    return "email:" + (request.form.get("email") or "").strip().lower()[:254]


def _sent(response) -> bool:
    return response.status_code == 302


def limit_email_links(view):
    """Emails asked for by people who are not logged in: per address and per email address."""
    view = limiter.limit(
        _email_link_limit, methods=["POST"], key_func=_typed_email, deduct_when=_sent, scope="email-link-address"
    )(view)
    return limiter.limit(_email_link_limit, methods=["POST"], scope="email-link-remote")(view)


@bp.route("/login", methods=["GET", "POST"])
@limit_failed_logins
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        member = db.session.scalar(sa.select(Member).where(Member.email == email))
        wait = wait_before_trying(email)
        if wait is not None and not is_known_device(member):
            submit(lambda: log_sign_in(member, "refused"))
            return render_template("members/login.html", form=form, refused=please_wait(wait)), 429
        if member is None or not verify_password(member.password_hash, form.password.data):
            record_failed_login(email)
            submit(lambda: log_sign_in(member, "failed"))
            form.password.errors.append(_("That email address and password do not match."))
        elif not member.is_active:
            session[APPLICANT_KEY] = member.id
            return redirect(url_for("members.join_status"))
        else:

            def sign_in():
                if needs_rehash(member.password_hash):
                    member.password_hash = hash_password(form.password.data)
                forget_failures(email)
                start_session(member)
                log_sign_in(member, "signed_in")

            submit(sign_in)
            login_user(member, remember=form.remember.data)
            return remember_device(redirect(safe_next(request.args.get("next"))), member)
    return render_template("members/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    submit(lambda: end_session(current_user))
    logout_user()
    session.clear()
    flash(_("You are logged out. See you soon!"), "success")
    return redirect(url_for("core.index"))


# Joining


@bp.route("/join")
def join_choose():
    """Pick a neighbourhood; with only one, go straight to its form."""
    communities = db.session.scalars(sa.select(Community).order_by(Community.name)).all()
    if len(communities) == 1:
        return redirect(url_for("members.join", slug=communities[0].slug))
    return render_template("members/join_choose.html", communities=communities)


@bp.route("/join/<slug>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["JOIN_LIMIT"], methods=["POST"])
@limiter.limit(_email_link_limit, methods=["POST"], key_func=_typed_email, deduct_when=_sent)
def join(slug: str):
    community = db.session.scalar(sa.select(Community).where(Community.slug == slug))
    if community is None:
        communities = db.session.scalars(sa.select(Community).order_by(Community.name)).all()
        return render_template(
            "members/join_choose.html",
            communities=communities,
            unknown=_("We do not know this neighbourhood. Please choose one from the list."),
        ), 404
    if current_user.is_authenticated:
        flash(_("You are a member already."), "info")
        return redirect(url_for("core.index"))
    form = RegisterForm()
    form.locale.choices = language_choices()
    if request.method == "GET":
        form.locale.data = (
            request.accept_languages.best_match(current_app.config["LANGUAGES"])
            or current_app.config["BABEL_DEFAULT_LOCALE"]
        )
    if form.is_submitted():
        valid = form.validate()
        if not valid:
            _show_join_problems(community, form)
        elif submit(
            lambda: register_member(
                community,
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                locale=form.locale.data,
                accepted_rules=form.accept_rules.data,
                motivation=form.motivation.data,
                answer=form.answer.data,
            ),
            form,
        ):
            # The same answer whether or not the address has an account already (see register_member).
            session[JOIN_EMAIL_KEY] = form.email.data.strip().lower()
            return redirect(url_for("members.join_sent"))
    locale, fallbacks = str(get_locale()), community_languages()
    return render_template(
        "members/join.html",
        form=form,
        community=community,
        rules=community.text("house_rules", locale, fallbacks),
        question=community.text("join_question", locale, fallbacks),
    )


def _show_join_problems(community: Community, form: RegisterForm) -> None:
    """The form's own checks failed: add the services' findings on the other fields, so every
    mistake shows at once."""
    for problem in join_problems(
        community,
        name=form.name.data,
        email=form.email.data,
        password=form.password.data,
        accepted_rules=form.accept_rules.data,
        answer=form.answer.data,
        motivation=form.motivation.data,
    ):
        target = getattr(form, problem.field or "", None)
        if target is not None and not target.errors:
            target.errors = [*target.errors, str(problem)]


@bp.route("/join/sent")
def join_sent():
    """After joining: look in your email (the link in it leads on to the request's status)."""
    email = session.get(JOIN_EMAIL_KEY)
    if not email:
        return redirect(url_for("members.join_choose"))
    return render_template("members/join_sent.html", email=email, hours=current_app.config["CONFIRM_LINK_HOURS"])


@bp.route("/join/status")
def join_status():
    """Where a join request (or a paused account) stands, in plain words."""
    member = db.session.get(Member, session.get(APPLICANT_KEY) or 0)
    if member is None:
        return redirect(url_for("members.login"))
    request_ = pending_join_request(member)
    suspension = None
    if member.status == "suspended":
        suspension = db.session.scalar(
            sa.select(AuditEvent)
            .where(
                AuditEvent.action == "member.suspended",
                AuditEvent.subject_type == "members",
                AuditEvent.subject_id == member.id,
            )
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
    return render_template(
        "members/join_status.html",
        member=member,
        join_request=request_,
        suspension=suspension,
        hours=current_app.config["CONFIRM_LINK_HOURS"],
        wait_days=usual_wait_days(member.community_id),
        contact=member.community.text("contact", str(get_locale()), community_languages()),
    )


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """The emailed link shows a button: mail scanners that open links use nothing up."""
    try:
        check_token(token, "confirm")
        if request.method == "POST":
            member = submit(lambda: confirm_email(token), passthrough=(DomainError,)).value
            session[APPLICANT_KEY] = member.id
            flash(_("Thank you! Your email address is confirmed."), "success")
            return redirect(url_for("members.join_status"))
    except TokenError as error:
        return render_template("members/link_problem.html", problem=str(error), again="members.confirm_again"), 410
    return render_template("members/confirm.html")


@bp.route("/confirm/again", methods=["GET", "POST"])
@limit_email_links
def confirm_again():
    form = EmailForm()
    if form.validate_on_submit():
        submit(lambda: resend_confirmation(form.email.data))
        flash(
            _(
                "If this address is waiting to be confirmed, we sent a new link to it. "
                "Please look in your email, also in the spam folder."
            ),
            "success",
        )
        return redirect(url_for("members.login"))
    return render_template(
        "members/email_form.html",
        form=form,
        title=_("Send the confirmation link again"),
        intro=_("Fill in the email address you joined with. We will send you a new link."),
    )


@bp.route("/email/confirm/<token>", methods=["GET", "POST"], endpoint="confirm_email_change")
def confirm_email_change_view(token: str):
    """The link sent to a new address; it works logged in or not, on any device. A button, like
    the confirmation link, so that mail scanners change nothing."""
    try:
        new_email = check_token(token, "email").new_email
        if request.method == "POST":
            member = submit(lambda: confirm_email_change(token), passthrough=(DomainError,)).value
            flash(
                _("Your email address is now %(email)s. From now on you log in with it.", email=member.email), "success"
            )
            own = current_user.is_authenticated and current_user.id == member.id
            return redirect(url_for("settings.index" if own else "members.login"))
    except (TokenError, MemberError) as error:
        status = 410 if isinstance(error, TokenError) else 409
        return render_template("members/link_problem.html", problem=str(error), again="settings.email"), status
    return render_template("members/confirm_email_change.html", new_email=new_email)


@bp.route("/email/undo/<token>", methods=["GET", "POST"], endpoint="undo_email_change")
def undo_email_change_view(token: str):
    """ "This was not me", from a notice to the old address. A button, so that mail scanners change
    nothing; then straight on to choosing a new password."""
    try:
        old_email = check_token(token, "undo_email").new_email
        if request.method == "POST":
            member, reset_token = submit(lambda: undo_email_change(token), passthrough=(DomainError,)).value
            flash(
                _(
                    "Your account uses %(email)s and everyone is logged out of it. Please choose a new password now.",
                    email=member.email,
                ),
                "success",
            )
            return redirect(url_for("members.reset_password", token=reset_token))
    except (TokenError, MemberError) as error:
        status = 410 if isinstance(error, TokenError) else 409
        return render_template("members/link_problem.html", problem=str(error), again=None), status
    return render_template("members/undo_email_change.html", old_email=old_email)


# Forgotten passwords


@bp.route("/password/forgot", methods=["GET", "POST"])
@limit_email_links
def forgot_password():
    form = EmailForm()
    if form.validate_on_submit():
        submit(lambda: request_password_reset(form.email.data))
        flash(
            _(
                "If there is an account with this address, we sent a link to it. The link works for "
                "%(minutes)d minutes. Please look in your email, also in the spam folder.",
                minutes=current_app.config["RESET_LINK_MINUTES"],
            ),
            "success",
        )
        return redirect(url_for("members.login"))
    return render_template(
        "members/email_form.html",
        form=form,
        title=_("Forgot your password?"),
        intro=_("Fill in your email address. We will send you a link to choose a new password."),
    )


@bp.route("/password/reset/<token>", methods=["GET", "POST"], endpoint="reset_password")
def reset_password_view(token: str):
    form = NewPasswordForm()
    try:
        check_token(token, "reset")
        if form.validate_on_submit() and submit(lambda: reset_password(token, form.password.data), form):
            logout_user()
            flash(_("Your new password is saved. You can log in with it now."), "success")
            return redirect(url_for("members.login"))
    except TokenError as error:
        return render_template("members/link_problem.html", problem=str(error), again="members.forgot_password"), 410
    return render_template("members/reset_password.html", form=form)


# Profiles and the directory


@bp.route("/members", endpoint="directory")
@login_required
def directory_view():
    """Search the active members of my neighbourhood; contact details only as each member allows."""
    community = current_user.community
    form = DirectoryForm(request.args)
    form.skill.choices = [("", _("Any skill"))] + [
        (c.id, c.name(str(get_locale()))) for c in community.categories if not c.retired_at
    ]
    form.area.choices = [("", _("Anywhere"))] + [(a.id, a.name) for a in community.areas]
    form.validate()
    page = directory_page(
        community.id,
        page=request.args.get("page", 1, type=db_int),
        per_page=PER_PAGE,
        query=form.q.data or "",
        skill_id=form.skill.data if not form.skill.errors else None,
        area_id=form.area.data if not form.area.errors else None,
    )
    # A coordinator may hide a profile's photo: asked once for the page's photos, not per member.
    hidden_photos = hidden_ids("profile", [m.id for m in page.items if m.photo_id and m.id != current_user.id])
    return render_template(
        "members/directory.html",
        form=form,
        page=page,
        community=community,
        balances=balances_of(page.items),
        hidden_photos=hidden_photos,
    )


@bp.route("/members/<int:member_id>")
@login_required
def profile(member_id: int):
    """A member's public profile, for the members of their community."""
    member = db.get_or_404(Member, member_id)
    if not is_member_of(current_user, member.community_id) or member.status != "active":
        abort(404)
    return render_template("members/profile.html", member=member)


# A newcomer's first steps, and how hours work


@bp.route("/hours")
def hours():
    """How hours work, with this neighbourhood's own rules; for visitors too."""
    community = current_user.community if current_user.is_authenticated else default_community()
    return render_template("members/hours.html", community=community)


@bp.route("/hours/understood", methods=["POST"])
@login_required
def hours_understood():
    submit(lambda: understood_hours(current_user))
    flash(_("Good! One step less on your list."), "success")
    return redirect(url_for("core.index"))


@bp.route("/welcome/away", methods=["POST"])
@login_required
def first_steps_away():
    submit(lambda: put_first_steps_away(current_user))
    flash(_('The first steps are put away. "How hours work" stays at the bottom of every page.'), "info")
    return redirect(url_for("core.index"))
