"""Signing in and out."""
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from timebank.extensions import db, login_manager
from timebank.members.forms import LoginForm
from timebank.members.models import Member
from timebank.members.passwords import hash_password, needs_rehash, verify_password
from timebank.permissions import is_member_of

bp = Blueprint("members", __name__)


@login_manager.user_loader
def load_member(session_token: str) -> Member | None:
    """A session is valid while the member is active and has not ended all sessions since."""
    member_id, _sep, version = session_token.partition(":")
    if not member_id.isdigit():
        return None
    member = db.session.get(Member, int(member_id))
    if member is None or str(member.session_version) != version or not member.is_active:
        return None
    return member


def safe_next(target: str | None) -> str:
    """Only redirect within this site after login."""
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("core.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        member = db.session.scalar(sa.select(Member).where(Member.email == email))
        if member is None or not verify_password(member.password_hash, form.password.data):
            form.password.errors.append(_("That email address and password do not match."))
        elif member.status == "pending":
            form.email.errors.append(_("Your request to join is waiting for a coordinator. You will get an email."))
        elif not member.is_active:
            form.email.errors.append(_("This account cannot log in. Please contact a coordinator."))
        else:
            if needs_rehash(member.password_hash):
                member.password_hash = hash_password(form.password.data)
                db.session.commit()
            login_user(member, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
    return render_template("members/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You are logged out. See you soon!"), "success")
    return redirect(url_for("core.index"))


@bp.route("/members/<int:member_id>")
@login_required
def profile(member_id: int):
    """A member's public profile, for the members of their community."""
    member = db.get_or_404(Member, member_id)
    if not is_member_of(current_user, member.community_id) or member.status != "active":
        abort(404)
    return render_template("members/profile.html", member=member)
