"""The market pages: the listing and search, a post, placing and changing posts, my posts, and
the coordinator's categories and settings."""

import sqlalchemy as sa
from babel.dates import get_day_names
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from timebank.communities.models import Area, Category, Community
from timebank.communities.services import linked_community_ids
from timebank.db import NotByIndex
from timebank.extensions import db
from timebank.i18n import format_day as day
from timebank.i18n import format_minutes, remembered
from timebank.market import finding, services
from timebank.market.forms import (
    DigestForm,
    ExpiryForm,
    MergeForm,
    ModerateForm,
    PostForm,
    category_form,
    category_names,
)
from timebank.market.models import DAYS, KINDS, Post
from timebank.market.services import Filters, MarketError
from timebank.members.acting import acting_member, on_behalf_of
from timebank.permissions import can_manage_post, can_moderate_post
from timebank.web.fields import choices, optional_int
from timebank.web.guards import coordinator_required, safe_next, visible_post
from timebank.web.submit import submit

bp = Blueprint("market", __name__, url_prefix="/market")

# Service errors about the estimated time belong next to the hours box.
FORM_FIELDS = {"minutes": "time_hours"}


DAY_PART_NAMES = {"morning": _l("mornings"), "afternoon": _l("afternoons"), "evening": _l("evenings")}


@bp.app_template_filter("availability")
def availability(post: Post) -> str:
    """'Monday, Saturday · mornings · after 3 pm', in the reader's language."""
    days = get_day_names("wide", locale=str(get_locale()))
    pieces = [
        ", ".join(days[DAYS.index(d)] for d in post.available_days),
        ", ".join(str(DAY_PART_NAMES[p]) for p in post.available_parts),
        post.available_note,
    ]
    return " · ".join(p for p in pieces if p)


# The words for a post's time by (locale, gift, minutes): a listing asked the catalogue for the
# same few phrases on every row (three lookups each), a tenth of the page's time.
_POST_TIMES: dict[tuple, str] = {}


@bp.app_template_filter("post_time")
def post_time(post: Post) -> str:
    return remembered(_POST_TIMES, (str(get_locale()), post.is_gift, post.minutes), lambda: _say_post_time(post))


def _say_post_time(post: Post) -> str:
    if post.is_gift:
        return _("Free gift (0 hours)")
    if post.minutes is None:
        return _("Time not given")
    return _("About %(time)s", time=format_minutes(post.minutes))


# Finding ------------------------------------------------------------------------------------------


@bp.route("")
@login_required
def index():
    community = current_user.community
    args = request.args
    category = services.resolve_category(community.id, optional_int(args.get("category")))
    area_id = optional_int(args.get("area"))
    if area_id is not None and getattr(db.session.get(Area, area_id), "community_id", None) != community.id:
        area_id = None
    # Linked communities' posts are listed with the neighbourhood's own unless the member narrows
    # it down: "ours", or one linked community (its id); anything else means all of them.
    linked = {
        c.id: c
        for c in db.session.scalars(
            sa.select(Community)
            .where(Community.id.in_(linked_community_ids(community.id, posts=True)))
            .order_by(Community.name)
        )
    }
    source = args.get("from", "")
    chosen = optional_int(source) if source != "ours" else None
    shown = () if source == "ours" else (chosen,) if chosen in linked else tuple(linked)
    filters = Filters(
        kind=args.get("kind") if args.get("kind") in KINDS else None,
        category_id=category.id if category else None,
        area_id=None if chosen in linked else area_id,
        gifts_only=args.get("gifts") == "1",
        text=args.get("q", "").strip()[:200],
        linked=shown,
    )
    page = services.find_posts(
        chosen if chosen in linked else community.id,
        filters,
        page=max(1, optional_int(args.get("page")) or 1),
        viewer_id=acting_member().id,
    )
    # The filters as they go into links, so chips and page links keep the others.
    kept = {
        "kind": filters.kind,
        "category": filters.category_id,
        "area": filters.area_id,
        "gifts": "1" if filters.gifts_only else None,
        "q": filters.text or None,
        "from": source if source == "ours" or chosen in linked else None,
    }
    kept = {k: v for k, v in kept.items() if v is not None}
    return render_template(
        "market/index.html",
        page=page,
        filters=filters,
        kept=kept,
        category=category,
        categories=active_categories(community.id),
        areas=community.areas,
        count_limit=finding.COUNT_LIMIT,
        linked=list(linked.values()),
        source=kept.get("from"),
    )


@bp.route("/posts/<int:post_id>")
@login_required
def post_detail(post_id: int):
    # Read only: with what the page shows about it, in one query instead of four.
    post = visible_post(post_id, joinedload(Post.owner), joinedload(Post.category), joinedload(Post.area))
    acting = acting_member()
    matches = (
        services.matching_offers(post, viewer_id=acting.id) if post.kind == "request" and post.state == "active" else []
    )
    return render_template(
        "market/post_detail.html", post=post, acting=acting, matches=matches, moderate_form=ModerateForm()
    )


# Placing and changing -----------------------------------------------------------------------------


@bp.route("/offers/new", methods=["GET", "POST"], defaults={"kind": "offer"})
@bp.route("/requests/new", methods=["GET", "POST"], defaults={"kind": "request"})
@login_required
def new_post(kind: str):
    owner = acting_member()
    form = PostForm()
    if request.method == "GET":
        form.category_id.data = optional_int(request.args.get("category"))
        form.area_id.data = owner.area_id
    fill_choices(form, owner.community_id)
    if form.validate_on_submit():
        done = submit(
            lambda: services.create_post(owner, kind, form.details(), actor=current_user, photo=form.photo.data),
            form,
            fields=FORM_FIELDS,
        )
        if done:
            post = done.value
            flash(placed_message(post), "success")
            return redirect(url_for("market.post_detail", post_id=post.id))
    return render_post_form(form, kind, None)


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit_post(post_id: int):
    post = owned_post(post_id)
    form = PostForm(obj=post)
    if request.method == "GET":
        form.show_minutes(post.minutes)
    fill_choices(form, post.community_id, keep=post.category)
    if form.validate_on_submit() and submit(
        lambda: services.edit_post(
            post, form.details(), actor=current_user, photo=form.photo.data, remove_photo=form.remove_photo.data
        ),
        form,
        fields=FORM_FIELDS,
    ):
        flash(_("Your changes are saved."), "success")
        return redirect(url_for("market.post_detail", post_id=post.id))
    return render_post_form(form, post.kind, post)


@bp.route("/posts/<int:post_id>/<any(pause, resume, close, renew):action>", methods=["POST"])
@login_required
def change_post(post_id: int, action: str):
    """One button each: pause, put back online, close, renew."""
    post = owned_post(post_id)
    change = {
        "pause": services.pause_post,
        "resume": services.resume_post,
        "close": services.close_post,
        "renew": services.renew_post,
    }[action]
    if submit(lambda: change(post, actor=current_user)):
        flash(
            {
                "pause": _("Your post is paused: it is out of the market until you put it back online."),
                "resume": _("Your post is back online."),
                "close": _("Your post is closed. You can still find it under My posts."),
                "renew": _("Your post stays online until %(date)s.", date=day(post.expires_at)),
            }[action],
            "success",
        )
    back = request.form.get("next")
    return redirect(safe_next(back) if back else url_for("market.post_detail", post_id=post.id))


@bp.route("/posts/<int:post_id>/moderate", methods=["POST"])
@login_required
def moderate_post(post_id: int):
    post = visible_post(post_id)
    if not can_moderate_post(current_user, post):
        abort(403)
    form = ModerateForm()
    if form.validate_on_submit() and submit(
        lambda: services.moderate_post(post, actor=current_user, reason=form.reason.data), form
    ):
        flash(_("The post is closed. %(name)s sees your reason and gets an email.", name=post.owner.name), "success")
        return redirect(url_for("market.post_detail", post_id=post.id))
    return render_template(
        "market/post_detail.html", post=post, acting=acting_member(), matches=[], moderate_form=form
    ), 422


@bp.route("/posts/<int:post_id>/reinstate", methods=["POST"])
@login_required
def reinstate_post(post_id: int):
    post = visible_post(post_id)
    if not can_moderate_post(current_user, post):
        abort(403)
    if submit(lambda: services.reinstate_post(post, actor=current_user)):
        flash(_("The post is back in the market. %(name)s gets an email.", name=post.owner.name), "success")
    return redirect(url_for("market.post_detail", post_id=post.id))


# My posts and my digest ---------------------------------------------------------------------------


@bp.route("/mine")
@login_required
def my_posts():
    member = acting_member()
    return render_template(
        "market/my_posts.html",
        posts=services.member_posts(member),
        member=member,
        helped=on_behalf_of(),
        digest_form=DigestForm(enabled=member.market_digest),
    )


@bp.route("/mine/digest", methods=["POST"])
@login_required
def set_digest():
    form = DigestForm()
    if form.validate_on_submit() and submit(lambda: services.set_digest(current_user, form.enabled.data)):
        flash(
            _("Done. We will email you new requests that match what you can do.")
            if form.enabled.data
            else _("Done. You will not get emails about new requests."),
            "success",
        )
    return redirect(url_for("market.my_posts"))


# The coordinator's categories and settings --------------------------------------------------------


@bp.route("/manage")
@login_required
@coordinator_required
def manage():
    community = current_user.community
    return render_template("market/manage.html", community=community, **manage_forms(community))


@bp.route("/manage/expiry", methods=["POST"])
@login_required
@coordinator_required
def set_expiry():
    community = current_user.community
    form = ExpiryForm()
    if form.validate_on_submit() and submit(
        lambda: services.set_post_expiry(community, form.weeks.data, actor=current_user), form
    ):
        flash(_("Saved. New and renewed posts stay online for %(weeks)d weeks.", weeks=form.weeks.data), "success")
        return redirect(url_for("market.manage"))
    return render_template("market/manage.html", community=community, **manage_forms(community, expiry_form=form)), 422


@bp.route("/manage/categories", methods=["POST"])
@login_required
@coordinator_required
def add_category():
    community = current_user.community
    form = category_form()
    done = form.validate_on_submit() and submit(
        lambda: services.add_category(community, category_names(form), actor=current_user), form
    )
    if done:
        category = done.value
        flash(
            _("The category “%(name)s” is added. Members can use it now.", name=category.name(str(get_locale()))),
            "success",
        )
        return redirect(url_for("market.manage"))
    return render_template("market/manage.html", community=community, **manage_forms(community, add_form=form)), 422


@bp.route("/manage/categories/<int:category_id>")
@login_required
@coordinator_required
def category_detail(category_id: int):
    """Rename, merge, retire or bring back one category."""
    category = coordinated_category(category_id)
    return render_category(category)


@bp.route("/manage/categories/<int:category_id>/<any(rename, merge, retire, restore):action>", methods=["POST"])
@login_required
@coordinator_required
def change_category(category_id: int, action: str):
    category = coordinated_category(category_id)
    locale = str(get_locale())
    name = category.name(locale)
    rename_form, merge_form = category_form(), merge_form_for(category)
    if action == "rename" and not rename_form.validate_on_submit():
        return render_category(category, rename_form=rename_form)

    def change() -> str:
        """Make the change; say what was done."""
        if action == "rename":
            services.rename_category(category, category_names(rename_form), actor=current_user)
            return _("The category is renamed. Posts in it show the new name.")
        if action == "merge":
            chosen = merge_form.target_id.data if merge_form.validate_on_submit() else None
            target = db.session.get(Category, chosen) if chosen else None
            if target is None:
                raise MarketError(_("Please choose another category of this neighbourhood."), "target_id")
            services.merge_category(category, target, actor=current_user)
            return _(
                "“%(name)s” is merged into “%(target)s”. Its posts are in “%(target)s” now.",
                name=name,
                target=target.name(locale),
            )
        if action == "retire":
            services.retire_category(category, actor=current_user)
            return _("“%(name)s” is not used any more. Posts already in it stay.", name=name)
        services.restore_category(category, actor=current_user)
        return _("“%(name)s” can be used again.", name=name)

    done = submit(change, {"rename": rename_form, "merge": merge_form}.get(action), fields=FORM_FIELDS)
    if not done:
        return render_category(category, rename_form=rename_form, merge_form=merge_form)
    flash(done.value, "success")
    return redirect(url_for("market.manage"))


# Helpers ------------------------------------------------------------------------------------------


def owned_post(post_id: int) -> Post:
    post = visible_post(post_id)
    if not can_manage_post(acting_member(), post):
        abort(403, _("This is not your post, so you cannot change it."))
    return post


def coordinated_category(category_id: int) -> Category:
    category = db.get_or_404(Category, category_id)
    if category.community_id != current_user.community_id:
        abort(404)
    return category


def merge_form_for(category: Category) -> MergeForm:
    form = MergeForm()
    form.target_id.choices = choices(
        [("", _("Choose a category"))]
        + [(c.id, c.name(str(get_locale()))) for c in active_categories(category.community_id) if c.id != category.id]
    )
    return form


def render_category(category: Category, rename_form=None, merge_form=None):
    """The category page; with the forms of a refused change, their errors and a 422."""
    refused = rename_form is not None or merge_form is not None
    if rename_form is None:
        rename_form = category_form(data={f"name_{code}": name for code, name in category.names.items()})
    post_count = db.session.scalar(sa.select(sa.func.count(Post.id)).where(Post.category_id == category.id))
    return render_template(
        "market/category_detail.html",
        category=category,
        rename_form=rename_form,
        merge_form=merge_form or merge_form_for(category),
        post_count=post_count,
    ), 422 if refused else 200


def active_categories(community_id: int) -> list[Category]:
    return list(
        db.session.scalars(
            sa.select(Category)
            .where(Category.community_id == community_id, Category.retired_at.is_(None))
            .order_by(Category.position)
        )
    )


def fill_choices(form: PostForm, community_id: int, keep: Category | None = None) -> None:
    """The categories people can choose; a post keeps its own even after it is retired."""
    categories = active_categories(community_id)
    if keep is not None and keep not in categories:
        categories.append(keep)
    areas = db.session.scalars(sa.select(Area).where(Area.community_id == community_id).order_by(Area.name))
    form.fill_choices(categories, list(areas), str(get_locale()))


def render_post_form(form: PostForm, kind: str, post: Post | None):
    """The form, empty or as typed; a refused one (errors shown) answers 422."""
    return render_template(
        "market/post_form.html", form=form, kind=kind, post=post, helped=on_behalf_of()
    ), 422 if request.method == "POST" else 200


def placed_message(post: Post) -> str:
    until = day(post.expires_at)
    if post.kind == "offer":
        return _(
            "Your offer is online. Neighbours can find it in the market now. "
            "It stays online until %(date)s; you can renew it then.",
            date=until,
        )
    return _("Your request is online until %(date)s. Below you see offers that may fit.", date=until)


def manage_forms(community, expiry_form=None, add_form=None) -> dict:
    # The online posts are a few of all ever placed: found by community and state (ix_posts_online),
    # then grouped. Grouping by the category's index instead made SQLite read every post the
    # neighbourhood ever had (20 ms for 125 online posts of 20,000 in the large demo).
    category = NotByIndex(Post.category_id)
    counts = dict(
        db.session.execute(
            sa.select(category, sa.func.count(Post.id))
            .where(Post.community_id == community.id, Post.status == "active")
            .group_by(category)
        ).all()
    )
    return {
        "expiry_form": expiry_form or ExpiryForm(weeks=str(community.post_expiry_weeks)),
        "add_form": add_form or category_form(),
        "counts": counts,
    }
