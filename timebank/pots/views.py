"""My pots (the "thermometer") and the common pot: what the community fund holds, what came in
and what was granted, and by which decision. Every POST commits through web.submit."""

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from timebank.i18n import format_minutes
from timebank.members.acting import on_behalf_of
from timebank.pots import services
from timebank.pots.common import common_pot
from timebank.pots.forms import CloseForm, MoveForm, NewPotForm, ShareForm, SpendForm
from timebank.pots.services import PotNotFound
from timebank.web.picker import picker
from timebank.web.submit import submit

bp = Blueprint("pots", __name__, url_prefix="/pots")
FUND = "fund"


@bp.before_request
def not_while_acting():
    """A member's pots are moved only by the member: while a coordinator acts for someone these
    pages would show and move the coordinator's own pots under the other member's banner."""
    helped = on_behalf_of()
    if helped is not None and request.endpoint != "pots.common":
        flash(_("Only %(name)s can use their pots. Stop acting for them to see your own.", name=helped.name), "error")
        return redirect(url_for("ledger.mine"))
    return None


def _pot(pot_id: int):
    try:
        return services.pot_for(current_user, pot_id)
    except PotNotFound:
        abort(404)


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    form = NewPotForm()
    if form.validate_on_submit():
        opened = submit(
            lambda: services.open_pot(current_user, form.name.data, form.goal_hours.data * 60),
            form,
            fields={"goal_minutes": "goal_hours"},
        )
        if opened:
            flash(_("Your pot “%(name)s” is open.", name=opened.value.name), "success")
            return redirect(url_for(".detail", pot_id=opened.value.id))
    return render_template(
        "pots/index.html", pots=services.pots_of(current_user), form=form
    ), 422 if request.method == "POST" else 200


def _forms(pot, **given):
    forms = dict(
        move=MoveForm(formdata=None, prefix="move"),
        share=ShareForm(formdata=None, prefix="share"),
        spend=SpendForm(formdata=None, prefix="spend"),
        close=CloseForm(formdata=None, prefix="close"),
    )
    forms.update(given)
    for keyed in (forms["move"], forms["spend"]):
        keyed.request_key.data = keyed.request_key.data or uuid.uuid4().hex
    if "share" not in given:  # a share sent back keeps what was typed
        forms["share"].share_percent.data = pot.share_percent
    return forms


def _recipient(pot):
    """Whom "pay from the pot" pays: a neighbour chosen with the picker (`to` in the address), or
    the community fund (`to=fund`)."""
    people = picker("to", pot.community_id, exclude=(current_user.id,), path=url_for(".detail", pot_id=pot.id))
    return people, request.values.get("to") == FUND


def _page(pot, status=200, **given):
    people, to_fund = _recipient(pot)
    return render_template(
        "pots/detail.html", pot=pot, forms=_forms(pot, **given), people=people, to_fund=to_fund, fund=FUND
    ), status


@bp.route("/<int:pot_id>")
@login_required
def detail(pot_id: int):
    return _page(_pot(pot_id))


@bp.route("/<int:pot_id>/move", methods=["POST"])
@login_required
def move(pot_id: int):
    pot, form = _pot(pot_id), MoveForm(prefix="move")
    if form.validate_on_submit() and form.total():
        service = services.deposit if form.direction.data == "in" else services.withdraw
        if submit(
            lambda: service(pot, current_user, form.total(), request_key=form.request_key.data),
            form,
            fields={"minutes": "hours"},
        ):
            flash(_("Done: %(time)s moved.", time=format_minutes(form.total())), "success")
            return redirect(url_for(".detail", pot_id=pot.id))
    elif not form.errors:
        form.hours.errors = [*form.hours.errors, _("Please fill in how much time.")]
    return _page(pot, 422, move=form)


@bp.route("/<int:pot_id>/share", methods=["POST"])
@login_required
def share(pot_id: int):
    pot, form = _pot(pot_id), ShareForm(prefix="share")
    if form.validate_on_submit():
        percent = form.share_percent.data or 0
        if submit(lambda: services.set_share(pot, current_user, percent), form):
            flash(_("From now on %(num)d percent of what you are paid goes into this pot.", num=percent), "success")
            return redirect(url_for(".detail", pot_id=pot.id))
    return _page(pot, 422, share=form)


@bp.route("/<int:pot_id>/spend", methods=["POST"])
@login_required
def spend(pot_id: int):
    pot, form = _pot(pot_id), SpendForm(prefix="spend")
    people, to_fund = _recipient(pot)
    if not (to_fund or people.chosen):
        flash(_("Choose who gets the hours: a neighbour, or the community fund."), "error")
    elif form.validate_on_submit() and form.total():
        to = None if to_fund else people.chosen[0]
        if submit(
            lambda: services.spend(
                pot, current_user, form.total(), to, form.memo.data, request_key=form.request_key.data
            ),
            form,
            fields={"minutes": "hours"},
        ):
            flash(_("Done: %(time)s paid from the pot.", time=format_minutes(form.total())), "success")
            return redirect(url_for(".detail", pot_id=pot.id))
    elif not form.errors:
        form.hours.errors = [*form.hours.errors, _("Please fill in how much time.")]
    return _page(pot, 422, spend=form)


@bp.route("/<int:pot_id>/close", methods=["POST"])
@login_required
def close(pot_id: int):
    pot, form = _pot(pot_id), CloseForm(prefix="close")
    if form.validate_on_submit() and submit(lambda: services.close_pot(pot, current_user)):
        flash(_("The pot is closed; what it held is back in your account."), "success")
        return redirect(url_for(".index"))
    return _page(pot, 422)


@bp.route("/common")
@login_required
def common():
    return render_template("pots/common.html", pot=common_pot(current_user.community_id))
