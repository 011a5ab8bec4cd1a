"""My account: balance, limits in plain words, the statement and its download; the same pages
for coordinators about a member of their community or the community fund, where they also give
an account its own limits or pause it; undoing a transaction; and the community's rules for
hours (limits, low-balance warning, levy)."""

import uuid

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required

from timebank.audit.services import record
from timebank.db import db_int
from timebank.extensions import db
from timebank.i18n import format_clock, format_day
from timebank.ledger.errors import AlreadyReversed, LedgerError
from timebank.ledger.export import kind_label, line_label, statement_csv
from timebank.ledger.forms import AccountLimitsForm, AccountStatusForm, LedgerSettingsForm, UndoForm
from timebank.ledger.models import Account, Transaction
from timebank.ledger.position import balance_of, fund_of, member_account
from timebank.ledger.services import (
    account_for,
    paying_the_actor,
    request_key,
    reverse,
    set_ledger_settings,
    set_limits,
    set_status,
    statement,
    summary,
)
from timebank.members.acting import acting_member, logged_in_member
from timebank.members.models import Member
from timebank.permissions import can_correct_ledger, can_manage_account, can_view_statement
from timebank.web.guards import coordinator_required, safe_next
from timebank.web.submit import submit

bp = Blueprint("ledger", __name__, url_prefix="/account")

PAGE_SIZE = 50
# The box in which a refused setting is shown, by the service's name for the setting; any other
# refusal goes next to the reason.
SETTING_FIELDS = {
    "floor": "owe_hours",
    "ceiling": "save_hours",
    "warning": "warning_hours",
    "levy_percent": "levy_percent",
    LedgerError: "reason",
}


@bp.app_template_filter("ledger_kind")
def ledger_kind(kind: str) -> str:
    return kind_label(kind)


@bp.app_template_filter("ledger_date")
def ledger_date(moment) -> str:
    """The date in the reader's language, written as the community writes dates."""
    return format_day(moment, "medium")


bp.add_app_template_filter(format_clock, "ledger_clock")


bp.add_app_template_global(balance_of, "member_balance")
bp.add_app_template_filter(line_label, "ledger_label")


def _viewable_member(member_id: int) -> Member:
    member = db.get_or_404(Member, member_id)
    if not can_view_statement(current_user, member):
        abort(404 if member.community_id != current_user.community_id else 403)
    return member


def _page(account: Account, *, owner: Member | None, csv_url: str, **forms):
    before = request.args.get("before", type=db_int)
    lines = statement(account, before=before, limit=PAGE_SIZE + 1) if account.id else []
    older = lines[PAGE_SIZE - 1].posting_id if len(lines) > PAGE_SIZE else None
    lines = lines[:PAGE_SIZE]
    return render_template(
        "ledger/account.html",
        account=account,
        owner=owner,
        position=summary(account),
        lines=lines,
        undoable=_undoable(account, lines),
        older=older,
        paged=before is not None,
        csv_url=csv_url,
        is_own=owner is not None and owner.id == acting_member().id,
        **forms,
    )


def _undoable(account: Account, lines: list) -> set[int]:
    """The lines' transactions the coordinator reading the page may undo, so the page offers only
    what the service would do."""
    if not can_correct_ledger(current_user, account.community_id):
        return set()
    candidates = [line.transaction_id for line in lines if line.kind != "reversal" and not line.reversed_by_id]
    return set(candidates) - paying_the_actor(current_user, candidates)


def _csv(account: Account, name: str) -> Response:
    lines = statement(account) if account.id else []
    body = "\ufeff" + statement_csv(lines, lambda moment: format_datetime(moment, "yyyy-MM-dd HH:mm"))
    filename = f"{name}-{format_date(format='yyyy-MM-dd')}.csv"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("")
@login_required
def mine():
    """My account: while a coordinator acts for someone, theirs."""
    member = acting_member()
    return _page(member_account(member), owner=member, csv_url=url_for(".mine_csv"))


@bp.route("/statement.csv")
@login_required
def mine_csv():
    return _member_csv(acting_member(), "statement")


@bp.route("/members/<int:member_id>")
@login_required
def member(member_id: int):
    member = _viewable_member(member_id)
    return _member_page(member)


def _member_page(
    member: Member, limits_form: AccountLimitsForm | None = None, status_form: AccountStatusForm | None = None
):
    """The member's statement; for their coordinators also the forms for the account's own limits
    and its pause (showing what was typed when a change was refused)."""
    account = member_account(member)
    forms = {}
    if can_manage_account(current_user, member):
        if limits_form is None:
            limits_form = AccountLimitsForm(formdata=None, prefix="limits")
            limits_form.show_limits(account.floor_override, account.ceiling_override)
        status_form = status_form or AccountStatusForm(formdata=None, prefix="pause")
        forms = dict(limits_form=limits_form, status_form=status_form)
    page = _page(account, owner=member, csv_url=url_for(".member_csv", member_id=member.id), **forms)
    return page if request.method == "GET" else (page, 422)


def _manageable_member(member_id: int) -> Member:
    member = _viewable_member(member_id)
    if not can_manage_account(current_user, member):
        abort(403)
    return member


@bp.route("/members/<int:member_id>/limits", methods=["POST"])
@login_required
def member_limits(member_id: int):
    """A coordinator gives the account its own floor and ceiling; empty boxes: the community's."""
    member = _manageable_member(member_id)
    form = AccountLimitsForm(prefix="limits")
    if form.validate_on_submit() and submit(
        lambda: set_limits(
            account_for(member),
            floor=form.floor(),
            ceiling=form.ceiling(),
            actor=logged_in_member(),
            reason=form.reason.data,
        ),
        form,
        fields=SETTING_FIELDS,
    ):
        flash(
            _("The limits of %(name)s are saved. They see them on their account, with your reason.", name=member.name),
            "success",
        )
        return redirect(url_for(".member", member_id=member.id))
    return _member_page(member, limits_form=form)


@bp.route("/members/<int:member_id>/status", methods=["POST"])
@login_required
def member_status(member_id: int):
    """A coordinator pauses the account (no hours go in or out) or lets hours move again. The
    form says which it asked for, so sending it twice does not undo it."""
    member = _manageable_member(member_id)
    form = AccountStatusForm(prefix="pause")
    wanted = request.form.get("status")
    if wanted not in ("open", "suspended"):
        abort(400)
    account = member_account(member)
    if account.status == wanted or account.status == "closed":
        flash(_("Nothing changed: the account is like that already."), "info")
        return redirect(url_for(".member", member_id=member.id))
    if form.validate_on_submit() and submit(
        lambda: set_status(account_for(member), wanted, actor=logged_in_member(), reason=form.reason.data),
        form,
        fields=SETTING_FIELDS,
    ):
        flash(
            _("The hours of %(name)s are paused: nothing can go in or out.", name=member.name)
            if wanted == "suspended"
            else _("Hours can go in and out of the account of %(name)s again.", name=member.name),
            "success",
        )
        return redirect(url_for(".member", member_id=member.id))
    return _member_page(member, status_form=form)


@bp.route("/members/<int:member_id>/statement.csv")
@login_required
def member_csv(member_id: int):
    return _member_csv(_viewable_member(member_id), f"statement-{member_id}")


def _member_csv(member: Member, name: str) -> Response:
    if member.id != current_user.id:  # a coordinator downloading a member's statement is a data export
        record("ledger.statement_exported", actor=current_user, subject=member, community_id=member.community_id)
        db.session.commit()
    return _csv(member_account(member), name)


@bp.route("/fund")
@login_required
@coordinator_required
def fund():
    return _page(fund_of(current_user.community), owner=None, csv_url=url_for(".fund_csv"))


@bp.route("/fund/statement.csv")
@login_required
@coordinator_required
def fund_csv():
    record("ledger.fund_exported", actor=current_user)
    db.session.commit()
    return _csv(fund_of(current_user.community), "fund")


@bp.route("/rules", methods=["GET", "POST"])
@login_required
@coordinator_required
def settings():
    """A coordinator sets the community's limits, the low-balance warning and the levy."""
    community = current_user.community
    form = LedgerSettingsForm()
    if request.method == "GET":
        form.show_limits(community.ledger_floor, community.ledger_ceiling)
        form.show_warning(community.ledger_warning)
        form.levy_percent.data = community.ledger_levy_percent
    elif form.validate_on_submit() and submit(
        lambda: set_ledger_settings(
            community,
            floor=form.floor(),
            ceiling=form.ceiling(),
            warning=form.warning(),
            levy_percent=form.levy_percent.data,
            actor=logged_in_member(),
        ),
        form,
        fields=SETTING_FIELDS,
    ):
        flash(_("Saved. Every account without limits of its own follows them now."), "success")
        return redirect(url_for(".settings"))
    return render_template(
        "ledger/settings.html", form=form, community=community
    ), 422 if request.method == "POST" else 200


@bp.route("/transactions/<int:transaction_id>/undo", methods=["GET", "POST"])
@login_required
def undo(transaction_id: int):
    """A coordinator undoes a transaction: the hours go back, with the reason on both statements."""
    transaction = db.get_or_404(Transaction, transaction_id)
    if transaction.community_id != current_user.community_id:
        abort(404)
    if not can_correct_ledger(current_user, transaction.community_id):
        abort(403)
    back = safe_next(request.values.get("next"))
    form = UndoForm()
    if request.method == "GET":
        form.request_key.data = uuid.uuid4().hex
    elif form.validate_on_submit():
        try:
            done = submit(
                lambda: reverse(
                    transaction,
                    actor=current_user,
                    reason=form.reason.data,
                    idempotency_key=request_key(current_user, "undo", form.request_key.data),
                ),
                form,
                fields={LedgerError: "reason"},
                passthrough=(AlreadyReversed,),
            )
        except AlreadyReversed as error:
            flash(str(error), "info")
            return redirect(back)
        if done:
            flash(_("The transaction is undone: the hours went back. Both statements show your reason."), "success")
            return redirect(back)
    undone = db.session.scalar(sa.select(Transaction.id).where(Transaction.reverses_id == transaction.id))
    return (
        render_template(
            "ledger/undo.html",
            form=form,
            transaction=transaction,
            postings=transaction.postings,
            back=back,
            undone=undone,
        ),
        422 if request.method == "POST" else 200,
    )
