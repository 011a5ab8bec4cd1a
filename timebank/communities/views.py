"""A community's settings and areas (its coordinators), and the administrator's pages:
communities and who coordinates them."""

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from timebank.audit.services import record
from timebank.communities.forms import (
    AdminLinkForm,
    AppointForm,
    AreaForm,
    LinkAnswerForm,
    NewCommunityForm,
    ProposeLinkForm,
    community_settings_form,
)
from timebank.communities.links import (
    accept_link,
    end_link,
    links_of,
    pause_link,
    propose_link,
    resume_link,
    set_link,
)
from timebank.communities.models import TEXT_KINDS, Area, Community, CommunityLink
from timebank.communities.services import add_area, create_community, rename_area, update_community
from timebank.extensions import db, login_manager
from timebank.ledger.models import Account
from timebank.members.acting import logged_in_member
from timebank.members.models import Member
from timebank.members.services import set_coordinator
from timebank.permissions import can_administer
from timebank.web.guards import coordinator_required
from timebank.web.submit import submit

bp = Blueprint("communities", __name__)


@bp.before_request
def require_login():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.route("/coordinate/community", methods=["GET", "POST"])
@coordinator_required
def settings():
    community = current_user.community
    languages = current_app.config["LANGUAGES"]
    stored = {
        f"{kind}_{code}": (community.texts or {}).get(kind, {}).get(code, "")
        for kind in TEXT_KINDS
        for code in languages
    }
    form = community_settings_form(languages, obj=community, data=None if request.method == "POST" else stored)
    texts = {kind: {code: form[f"{kind}_{code}"].data for code in languages} for kind in TEXT_KINDS}
    if form.validate_on_submit() and submit(
        lambda: update_community(
            community,
            actor=logged_in_member(),
            name=form.name.data,
            description=form.description.data,
            join_policy=form.join_policy.data,
            texts=texts,
        ),
        form,
    ):
        flash(_("The settings of %(name)s are saved.", name=community.name), "success")
        return redirect(url_for("communities.settings"))
    return (
        render_template(
            "communities/settings.html",
            form=form,
            community=community,
            text_fields=[[form[f"{kind}_{code}"] for code in languages] for kind in TEXT_KINDS],
        ),
        422 if request.method == "POST" else 200,
    )


@bp.route("/coordinate/community/areas", methods=["POST"])
@bp.route("/coordinate/community/areas/<int:area_id>", methods=["POST"])
@coordinator_required
def area(area_id: int | None = None):
    """Add an area, or rename one (areas are never deleted: members point at them)."""
    community = current_user.community
    existing = db.session.get(Area, area_id) if area_id else None
    if area_id and (existing is None or existing.community_id != community.id):
        abort(404)
    form = AreaForm()
    if not form.validate():
        flash(_("Please give the area a name of at most 80 characters."), "error")
        return redirect(url_for("communities.settings"))
    actor = logged_in_member()
    if submit(
        lambda: (
            rename_area(existing, actor=actor, name=form.name.data)
            if existing
            else add_area(community, actor=actor, name=form.name.data)
        )
    ):
        flash(_("The area %(name)s is saved.", name=form.name.data.strip()), "success")
    return redirect(url_for("communities.settings"))


# Links with other neighbourhoods

LINK_ACTIONS = {"accept": accept_link, "pause": pause_link, "resume": resume_link, "end": end_link}


def _links_page(form: ProposeLinkForm, status: int = 200):
    community = current_user.community
    return render_template(
        "communities/links.html", community=community, form=form, links=links_of(community.id), answer=LinkAnswerForm()
    ), status


@bp.route("/coordinate/links", methods=["GET", "POST"])
@coordinator_required
def links():
    """The neighbourhoods this one trades with, and a proposal to a new one."""
    form = ProposeLinkForm()
    if form.validate_on_submit() and submit(
        lambda: propose_link(
            current_user.community,
            form.other.data,
            actor=logged_in_member(),
            cap_minutes=form.cap_hours.data * 60,
            see_posts=form.see_posts.data,
            reason=form.reason.data,
        ),
        form,
        fields={"other": "other", "cap_minutes": "cap_hours", "reason": "reason"},
    ):
        flash(_("Your proposal is sent. The other neighbourhood's coordinators answer it."), "success")
        return redirect(url_for("communities.links"))
    return _links_page(form, 422 if request.method == "POST" else 200)


@bp.route("/coordinate/links/<int:link_id>/<any(accept, pause, resume, end):action>", methods=["POST"])
@coordinator_required
def link_action(link_id: int, action: str):
    """Accept, pause, resume or end one of the community's links; other communities' links are
    not found, and the service refuses what this coordinator's side may not do."""
    link = db.session.get(CommunityLink, link_id)
    community_id = current_user.community_id
    if link is None or community_id not in (link.proposer_id, link.accepter_id):
        abort(404)
    form = LinkAnswerForm()
    if form.validate() and submit(
        lambda: LINK_ACTIONS[action](link, actor=logged_in_member(), reason=form.reason.data)
    ):
        flash(_("The link with %(name)s is saved.", name=link.other(community_id).name), "success")
    elif form.errors:
        flash(_("Please use at most 500 characters."), "error")
    return redirect(url_for("communities.links"))


# The instance administrator


def require_admin() -> None:
    if not can_administer(current_user):
        abort(403)


def _created(community: Community) -> Community:
    record(
        "community.created",
        actor=logged_in_member(),
        community_id=community.id,
        subject=community,
        slug=community.slug,
        name=community.name,
    )
    return community


@bp.route("/admin", methods=["GET", "POST"])
def admin():
    require_admin()
    form = NewCommunityForm()
    if form.validate_on_submit():
        done = submit(lambda: _created(create_community(form.slug.data, form.name.data, form.join_policy.data)), form)
        if done:
            community = done.value
            flash(
                _("The community %(name)s is made. Now appoint its first coordinator.", name=community.name), "success"
            )
            return redirect(url_for("communities.admin_community", community_id=community.id))
    communities = db.session.scalars(sa.select(Community).order_by(Community.name)).all()
    counts = dict(
        db.session.execute(
            sa.select(Member.community_id, sa.func.count())
            .where(Member.status == "active")
            .group_by(Member.community_id)
        ).all()
    )
    return render_template("communities/admin.html", form=form, communities=communities, counts=counts)


@bp.route("/admin/communities/<int:community_id>", methods=["GET", "POST"])
def admin_community(community_id: int):
    """Appoint a coordinator by email address: an active member, or someone who asked to join."""
    require_admin()
    community = db.get_or_404(Community, community_id)
    form = AppointForm()
    if form.validate_on_submit():
        member = db.session.scalar(
            sa.select(Member).where(
                Member.email == form.email.data.strip().lower(), Member.community_id == community.id
            )
        )
        if member is None:
            form.email.errors.append(
                _("Nobody in %(name)s has this email address. Ask them to join first.", name=community.name)
            )
        elif submit(lambda: set_coordinator(member, actor=logged_in_member(), coordinator=True), form):
            flash(_("%(name)s is now a coordinator. We sent them an email.", name=member.name), "success")
            return redirect(url_for("communities.admin_community", community_id=community.id))
    coordinators = db.session.scalars(
        sa.select(Member)
        .where(Member.community_id == community.id, Member.role == "coordinator", Member.status != "erased")
        .order_by(Member.name)
    ).all()
    return render_template(
        "communities/admin_community.html", community=community, form=form, coordinators=coordinators
    )


@bp.route("/admin/communities/<int:community_id>/coordinators/<int:member_id>/remove", methods=["POST"])
def remove_coordinator(community_id: int, member_id: int):
    require_admin()
    member = db.session.get(Member, member_id)
    if member is None or member.community_id != community_id or member.role != "coordinator":
        abort(404)
    if submit(lambda: set_coordinator(member, actor=logged_in_member(), coordinator=False)):
        flash(_("%(name)s is no longer a coordinator. We sent them an email.", name=member.name), "success")
    return redirect(url_for("communities.admin_community", community_id=community_id))


# The administrator's links between communities

ADMIN_LINK_ACTIONS = {"pause": pause_link, "resume": resume_link, "end": end_link}


@bp.route("/admin/links", methods=["GET", "POST"])
def admin_links():
    """Every link between communities; setting one up between any two at once, with its cap and
    whether members see each other's posts (the same service as `flask communities link`)."""
    require_admin()
    communities = db.session.scalars(sa.select(Community).order_by(Community.name, Community.id)).all()
    form = AdminLinkForm()
    form.first.choices = form.second.choices = [(community.id, community.name) for community in communities]
    if form.validate_on_submit():
        first, second = db.session.get(Community, form.first.data), db.session.get(Community, form.second.data)
        if submit(
            lambda: set_link(
                first,
                second,
                cap_minutes=form.cap_hours.data * 60,
                see_posts=form.see_posts.data,
                reason=form.reason.data,
                actor=logged_in_member(),
            ),
            form,
            fields={"other": "second", "cap_minutes": "cap_hours", "reason": "reason"},
        ):
            flash(
                _("%(first)s and %(second)s trade with each other now.", first=first.name, second=second.name),
                "success",
            )
            return redirect(url_for("communities.admin_links"))
    elif request.method == "GET" and len(communities) > 1:
        form.second.data = communities[1].id
    links = db.session.scalars(
        sa.select(CommunityLink)
        .options(sa.orm.selectinload(CommunityLink.proposer), sa.orm.selectinload(CommunityLink.accepter))
        .order_by(
            sa.case((CommunityLink.state == "active", 0), (CommunityLink.state == "paused", 1), else_=2),
            CommunityLink.id,
        )
    ).all()
    # What each proposer owes the other now: its clearing account's balance (above zero: it owes).
    owed = {
        (community_id, peer_id): balance
        for community_id, peer_id, balance in db.session.execute(
            sa.select(Account.community_id, Account.peer_community_id, Account.balance).where(
                Account.kind == "clearing"
            )
        )
    }
    return render_template(
        "communities/admin_links.html",
        form=form,
        links=links,
        owed={link.id: owed.get((link.proposer_id, link.accepter_id)) for link in links},
        answer=LinkAnswerForm(),
    ), 422 if request.method == "POST" else 200


@bp.route("/admin/links/<int:link_id>/<any(pause, resume, end):action>", methods=["POST"])
def admin_link_action(link_id: int, action: str):
    require_admin()
    link = db.get_or_404(CommunityLink, link_id)
    form = LinkAnswerForm()
    if form.validate() and submit(
        lambda: ADMIN_LINK_ACTIONS[action](
            link, actor=logged_in_member(), reason=form.reason.data, as_administrator=True
        )
    ):
        flash(
            _(
                "The link between %(first)s and %(second)s is saved.",
                first=link.proposer.name,
                second=link.accepter.name,
            ),
            "success",
        )
    elif form.errors:
        flash(_("Please use at most 500 characters."), "error")
    return redirect(url_for("communities.admin_links"))
