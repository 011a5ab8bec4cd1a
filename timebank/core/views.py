"""The front page, the language switch and the health check."""

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from timebank.communities.services import default_community
from timebank.exchanges.models import OPEN_STATES
from timebank.exchanges.services import exchanges_of
from timebank.extensions import db
from timebank.ledger.position import balance_of
from timebank.market.services import recent_posts
from timebank.members.acting import acting_member
from timebank.web.guards import safe_next
from timebank.web.submit import submit

bp = Blueprint("core", __name__)


@bp.route("/")
def index():
    community = current_user.community if current_user.is_authenticated else default_community()
    if not current_user.is_authenticated:
        return render_template("core/index.html", community=community, recent_posts=[])
    member = acting_member()
    return render_template(
        "core/index.html",
        community=community,
        recent_posts=recent_posts(community.id, viewer_id=member.id),
        open_exchanges=exchanges_of(member, states=OPEN_STATES, limit=5),
        balance=balance_of(member),
    )


@bp.route("/language", methods=["POST"])
def set_language():
    """Works without JavaScript: one submit button per language."""
    locale = request.form.get("locale")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:

            def remember():
                current_user.locale = locale

            submit(remember)
    return redirect(safe_next(request.form.get("next")))


@bp.route("/healthz")
def healthz():
    """For load balancers and monitoring: 200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
