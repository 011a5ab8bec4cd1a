"""Exchange pages: responding to a post, an exchange with its next step and conversation, my
exchanges, group exchanges, giving hours, and the coordinators' grants, paper slips, disputes
and settings. Every action is one POST that commits once; refusals are shown in plain words."""

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from timebank.db import db_int
from timebank.exchanges import services, transfers
from timebank.exchanges.forms import (
    ConfirmForm,
    GiveForm,
    GrantForm,
    GroupForm,
    MessageForm,
    ProposeForm,
    ReasonForm,
    ResolveForm,
    SettingsForm,
    SlipForm,
    ThanksForm,
    TimeForm,
)
from timebank.exchanges.models import OPEN_STATES, Exchange, ThankYou
from timebank.exchanges.wording import event_text, status
from timebank.extensions import db
from timebank.i18n import format_minutes
from timebank.ledger.errors import LimitExceeded
from timebank.ledger.position import position_of
from timebank.ledger.services import account_for, fund_account
from timebank.members.acting import acting_member, logged_in_member, on_behalf_of
from timebank.members.models import Member
from timebank.members.services import coordinators_of
from timebank.moderation.models import hidden
from timebank.notifications.services import has_unread, read_now
from timebank.permissions import can_coordinate, can_read_thread, can_see_exchange, coordinates_a_side
from timebank.web.guards import coordinator_required, visible_post
from timebank.web.picker import picker
from timebank.web.submit import show_refusal, submit

bp = Blueprint("exchanges", __name__, url_prefix="/exchanges")

DONE_SHOWN = 20
# Service errors about the time belong next to the hours box.
FORM_FIELDS = {"minutes": "hours", "date": "date", "max_hours": "max_hours"}
# Forms that move hours directly: a balance limit's refusal goes next to the hours too.
WITHIN_LIMITS = {**FORM_FIELDS, LimitExceeded: "hours"}


bp.add_app_template_global(event_text, "exchange_event")


bp.add_app_template_global(services.thanks_for, "thanks_for")


@bp.app_template_global()
def state_word(exchange: Exchange) -> str:
    """The badge: once the provider recorded the time, "accepted" would hide that the receiver's
    confirmation is what is awaited now."""
    if exchange.state == "accepted" and exchange.recorded_minutes is not None:
        return _("time recorded")
    return str(services.STATE_WORDS[exchange.state])


@bp.app_template_global()
def exchange_status(exchange: Exchange, member: Member | None):
    return status(exchange, member)


@bp.app_template_global()
def exchange_room(exchange: Exchange, reader: Member | None) -> dict | None:
    """Before the work is done, what still fits between the two balances, said to a participant:
    their own room, what fits between them, and whether the agreed time is more than that."""
    if reader is None or exchange.kind != "single" or exchange.state not in ("proposed", "accepted"):
        return None
    room = services.room_between(exchange.receiver, exchange.provider)
    minutes = exchange.recorded_minutes or exchange.minutes
    return dict(room=room, over=room.fits is not None and minutes > room.fits, words=room_words(room, reader))


@bp.app_template_global()
def room_words(room, reader: Member) -> list[str]:
    """'You can pay for up to 6 hours 50 minutes of help now.', and what fits between both when
    the other side's limit is tighter (said as a total, without their balance)."""
    words, own = [], None
    if reader.id == room.payer.id and room.payer_can_pay is not None:
        own = room.payer_can_pay
        words.append(_("You can pay for up to %(time)s of help now.", time=format_minutes(own)))
    elif reader.id == room.provider.id and room.provider_can_receive is not None:
        own = room.provider_can_receive
        words.append(_("You can be paid for up to %(time)s of help now.", time=format_minutes(own)))
    if room.fits is not None and room.fits != own:  # the other side's limit is the tighter one
        words.append(
            _(
                "Between you and %(name)s, at most %(time)s fits now.",
                name=(room.provider if reader.id == room.payer.id else room.payer).name,
                time=format_minutes(room.fits),
            )
        )
    return words


@bp.app_template_global()
def limit_words(refusal: LimitExceeded, reader: Member | None) -> str:
    """The confirmation's refusal addressed to the reader when it is about their own balance."""
    account = account_for(reader, create=False) if reader is not None else None
    if account is None or account.id != refusal.account_id:
        return str(refusal)
    values = dict(
        limit=format_minutes(refusal.limit), balance=format_minutes(refusal.balance), room=format_minutes(refusal.room)
    )
    if refusal.direction == "floor":
        return _(
            "Your balance may not go below %(limit)s. It is %(balance)s now, so you can pay for at most "
            "%(room)s of help.",
            **values,
        )
    return _(
        "Your balance may not go above %(limit)s. It is %(balance)s now, so you can be paid for at most %(room)s more.",
        **values,
    )


@bp.app_template_global()
def own_room(member: Member) -> list[str]:
    """On the group form, said to its organiser: how much they can pay and be paid for now."""
    position = position_of(member)
    words = []
    if position.can_pay is not None:
        words.append(_("You can pay for up to %(time)s of help now.", time=format_minutes(position.can_pay)))
    if position.can_earn is not None:
        words.append(_("You can be paid for up to %(time)s of help now.", time=format_minutes(position.can_earn)))
    return words


@bp.app_template_global()
def slip_room(provider: Member, receiver: Member) -> str:
    """On the paper slip, said to the coordinator: what fits between the two, without their figures."""
    fits = services.room_between(receiver, provider).fits
    if fits is None:
        return ""
    return _(
        "Between %(payer)s and %(provider)s, at most %(time)s fits now.",
        payer=receiver.name,
        provider=provider.name,
        time=format_minutes(fits),
    )


def _room_on_post(post, reader: Member):
    """The room between the reader and the post's owner, worked out once per page: the post page
    asks for it twice (is the post's time too much, and what fits), each time four queries."""
    rooms = g.setdefault("post_rooms", {})
    key = (post.id, reader.id)
    if key not in rooms:
        payer, provider = (reader, post.owner) if post.kind == "offer" else (post.owner, reader)
        rooms[key] = services.room_between(payer, provider)
    return rooms[key]


@bp.app_template_global()
def post_room(post, reader: Member) -> list[str]:
    """On the proposal form: what fits between the reader and the post's owner."""
    if post.is_gift or post.owner_id == reader.id:
        return []
    return room_words(_room_on_post(post, reader), reader)


@bp.app_template_global()
def post_too_much(post, reader: Member) -> int | None:
    """The post's time when it does not fit between the reader and its owner: worth asking about."""
    if post.is_gift or post.owner_id == reader.id or not post.minutes:
        return None
    fits = _room_on_post(post, reader).fits
    return post.minutes if fits is not None and post.minutes > fits else None


@bp.app_template_global()
def propose_form(post) -> ProposeForm:
    form = ProposeForm(formdata=None)
    form.show(post.minutes)
    return form


@bp.app_template_global()
def open_exchange_on(post, member: Member) -> Exchange | None:
    """The member's proposal on this post that is still under way, if any."""
    return db.session.scalar(
        sa.select(Exchange).where(
            Exchange.post_id == post.id, Exchange.proposer_id == member.id, Exchange.state.in_(OPEN_STATES)
        )
    )


# Helpers ------------------------------------------------------------------------------------------


def acting() -> tuple[Member, Member | None]:
    """(the coordinator or member who acts, the member they act for or None)."""
    return logged_in_member(), on_behalf_of()


def exchange_for(exchange_id: int) -> Exchange:
    """An exchange the reader may look at: its participants (or a coordinator acting for one),
    and the coordinators of its community. Anything else is 'not found'."""
    exchange = db.get_or_404(Exchange, exchange_id)
    if not can_see_exchange(current_user, exchange, acting_member()):
        abort(404)
    return exchange


def new_key() -> str:
    return uuid.uuid4().hex


# My exchanges ---------------------------------------------------------------------------------------


@bp.route("")
@login_required
def mine():
    member = acting_member()
    exchanges = services.exchanges_of(member, limit=200)
    sections = {"open": [], "done": [], "closed": []}
    for exchange in exchanges:
        key = "open" if exchange.is_open else "done" if exchange.state == "completed" else "closed"
        sections[key].append(exchange)
    sections["open"].sort(key=lambda e: not status(e, member).needs_you)
    sections["done"] = sections["done"][:DONE_SHOWN]
    return render_template("exchanges/mine.html", member=member, sections=sections, position=position_of(member))


# Responding to a post -------------------------------------------------------------------------------


@bp.route("/respond/<int:post_id>", methods=["GET", "POST"])
@login_required
def propose(post_id: int):
    post = visible_post(post_id)
    form = ProposeForm()
    too_much = None  # minutes that did not fit: the page offers to ask a coordinator about them
    if request.method == "GET":
        form.show(post.minutes)
    elif form.validate_on_submit():
        actor, helped = acting()
        try:
            done = submit(
                lambda: services.propose(
                    post, helped or actor, form.total(), actor=actor, message=form.message.data, date=form.date.data
                ),
                form,
                fields=FORM_FIELDS,
                passthrough=(services.NoRoom,),
            )
        except services.NoRoom as refusal:
            show_refusal(refusal, form, FORM_FIELDS)
            done, too_much = None, form.total()
        if done:
            exchange = done.value
            flash(
                _("Your proposal is sent. %(name)s gets a message and accepts or declines.", name=post.owner.name),
                "success",
            )
            return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    return render_template(
        "exchanges/propose.html", post=post, form=form, helped=on_behalf_of(), too_much=too_much
    ), 422 if request.method == "POST" else 200


@bp.route("/respond/<int:post_id>/ask", methods=["POST"])
@login_required
def ask_coordinators(post_id: int):
    """More minutes than fit: the coordinators are asked, before anything is proposed."""
    post = visible_post(post_id)
    form = TimeForm()
    actor, helped = acting()
    if form.validate_on_submit() and submit(
        lambda: services.ask_coordinators(post, helped or actor, form.total() or 0, actor=actor)
    ):
        flash(
            _(
                "The coordinators are asked to help. They get a message with the time you would like and see "
                "your balance; one of them gets in touch with you."
            ),
            "success",
        )
    return redirect(url_for("market.post_detail", post_id=post.id))


@bp.app_template_global()
def coordinators_to_ask(member: Member) -> list[Member]:
    """Whom a member can reach themselves: their community's coordinators (their profile pages
    show how, as each allows)."""
    return [c for c in coordinators_of(member.community_id) if c.id != member.id]


# One exchange ---------------------------------------------------------------------------------------


@bp.route("/<int:exchange_id>")
@login_required
def detail(exchange_id: int):
    exchange = exchange_for(exchange_id)
    me = acting_member()
    if exchange.participant(me) is not None and has_unread(me, exchange_id=exchange.id):
        read_now(me, exchange_id=exchange.id)
    return render_detail(exchange)


def render_detail(exchange: Exchange, status_code: int = 200, **forms):
    me = acting_member()
    party = me if exchange.participant(me) is not None else None
    confirm_form = forms.get("confirm_form") or ConfirmForm()
    record_form = forms.get("record_form") or TimeForm()
    if not forms:
        confirm_form.show(exchange.recorded_minutes or exchange.minutes)
        record_form.show(exchange.recorded_minutes or exchange.minutes)
    thanks_form = forms.get("thanks_form") or ThanksForm()
    thankable = services.thankable(exchange, party)
    thanks_form.to.choices = [(m.id, m.name) for m in thankable]
    resolve_form = forms.get("resolve_form") or ResolveForm()
    if "resolve_form" not in forms:
        resolve_form.show(exchange.recorded_minutes or exchange.minutes)
    show_thread = can_read_thread(current_user, exchange, me)
    return render_template(
        "exchanges/detail.html",
        exchange=exchange,
        me=party,
        status=status(exchange, party),
        thread=services.thread(exchange) if show_thread else None,
        show_thread=show_thread,
        limit=forms.get("limit"),
        reason_form=ReasonForm(),
        message_form=forms.get("message_form") or MessageForm(),
        confirm_form=confirm_form,
        record_form=record_form,
        thanks_form=thanks_form,
        thankable=thankable,
        resolve_form=resolve_form,
        can_resolve=(exchange.state == "disputed" and party is None and coordinates_a_side(current_user, exchange)),
        coordinator=coordinates_a_side(current_user, exchange),
        # From the fund of the payer's own community only, as the grant itself requires.
        can_grant=can_coordinate(
            current_user, exchange.receiver.community_id if exchange.receiver else exchange.community_id
        ),
        thanks=db.session.scalars(
            sa.select(ThankYou).where(ThankYou.exchange_id == exchange.id, ~hidden("thanks", ThankYou.id))
        ).all(),
    ), status_code


ACTIONS = {
    "accept": (
        lambda e, actor, helped, form: services.accept(e, actor=actor, on_behalf_of=helped),
        lambda e: _("You accepted. Now do it together; afterwards the time is recorded and confirmed."),
    ),
    "decline": (
        lambda e, actor, helped, form: services.decline(e, actor=actor, on_behalf_of=helped, reason=form.reason.data),
        lambda e: _("You declined. No hours moved."),
    ),
    "cancel": (
        lambda e, actor, helped, form: services.cancel(e, form.reason.data, actor=actor, on_behalf_of=helped),
        lambda e: _("The exchange is cancelled. No hours moved. The others get a message."),
    ),
    "dispute": (
        lambda e, actor, helped, form: services.dispute(e, form.reason.data, actor=actor, on_behalf_of=helped),
        lambda e: _("A coordinator is asked to decide. You both get a message when they do."),
    ),
    "help": (
        lambda e, actor, helped, form: services.ask_for_help(e, actor=actor, on_behalf_of=helped),
        lambda e: _("The coordinators are asked to help. They get a message."),
    ),
    "settle": (
        lambda e, actor, helped, form: services.settle_group(e, actor=actor, on_behalf_of=helped),
        lambda e: _("Settled: the hours moved."),
    ),
    "agree": (
        lambda e, actor, helped, form: services.agree(e, actor=actor, on_behalf_of=helped),
        lambda e: _("Thank you: %(time)s moved to your balance.", time=format_minutes(e.minutes)),
    ),
}


@bp.route("/<int:exchange_id>/<any(accept, decline, cancel, dispute, help, settle, agree):action>", methods=["POST"])
@login_required
def act(exchange_id: int, action: str):
    exchange = exchange_for(exchange_id)
    form = ReasonForm()
    change, done = ACTIONS[action]
    actor, helped = acting()
    try:
        changed = submit(lambda: change(exchange, actor, helped, form), passthrough=(LimitExceeded,))
    except LimitExceeded as refusal:
        return render_detail(exchange, 409, limit=refusal)
    if changed:
        flash(done(changed.value), "success")
    return redirect(url_for("exchanges.detail", exchange_id=exchange.id))


@bp.route("/<int:exchange_id>/record", methods=["POST"])
@login_required
def record(exchange_id: int):
    exchange = exchange_for(exchange_id)
    form = TimeForm()
    actor, helped = acting()
    if form.validate_on_submit() and submit(
        lambda: services.record_minutes(exchange, form.total(), actor=actor, on_behalf_of=helped),
        form,
        fields=FORM_FIELDS,
    ):
        flash(
            _(
                "Saved: %(time)s. %(name)s is asked to confirm.",
                time=format_minutes(exchange.recorded_minutes),
                name=exchange.receiver.name,
            ),
            "success",
        )
        return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    return render_detail(exchange, 422, record_form=form)


@bp.route("/<int:exchange_id>/confirm", methods=["POST"])
@login_required
def confirm(exchange_id: int):
    exchange = exchange_for(exchange_id)
    form = ConfirmForm()
    actor, helped = acting()
    if not form.validate_on_submit():
        return render_detail(exchange, 422, confirm_form=form)
    override = (form.override_reason.data or "").strip() or None
    try:
        done = submit(
            lambda: services.confirm(
                exchange, actor=actor, on_behalf_of=helped, minutes=form.total(), override_reason=override
            ),
            form,
            fields=FORM_FIELDS,
            passthrough=(LimitExceeded,),
        )
    except LimitExceeded as refusal:
        # Nothing was written: the exchange is still accepted, and the page says what can be done.
        return render_detail(exchange, 409, confirm_form=form, limit=refusal)
    if not done:
        if any(f.errors for f in form):
            return render_detail(exchange, 422, confirm_form=form)
        return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    result = done.value
    if result.is_group:
        flash(_("Thank you: your part is confirmed."), "success")
    elif result.state != "completed":
        flash(
            _(
                "You confirmed %(time)s. %(name)s recorded more, so they are asked to agree; if they do nothing, "
                "the hours move by themselves.",
                time=format_minutes(result.offered_minutes),
                name=result.provider.name,
            ),
            "success",
        )
    else:
        flash(
            _(
                "Confirmed: %(time)s went from your balance to %(name)s. Thank you!",
                time=format_minutes(result.minutes),
                name=result.provider.name,
            ),
            "success",
        )
    return redirect(url_for("exchanges.detail", exchange_id=exchange.id))


@bp.route("/<int:exchange_id>/messages", methods=["POST"])
@login_required
def message(exchange_id: int):
    exchange = exchange_for(exchange_id)
    form = MessageForm()
    actor, helped = acting()
    if form.validate_on_submit() and submit(
        lambda: services.post_message(exchange, helped or actor, form.text.data, actor=actor), form, fields=FORM_FIELDS
    ):
        flash(_("Your message is sent."), "success")
        return redirect(url_for("exchanges.detail", exchange_id=exchange.id, _anchor="conversation"))
    return render_detail(exchange, 422, message_form=form)


@bp.route("/<int:exchange_id>/thanks", methods=["POST"])
@login_required
def thank(exchange_id: int):
    exchange = exchange_for(exchange_id)
    form = ThanksForm()
    actor, helped = acting()
    to = db.session.get(Member, form.to.data) if form.to.data else None
    if form.validate_on_submit() and submit(
        lambda: services.thank(exchange, helped or actor, form.text.data, actor=actor, to=to), form, fields=FORM_FIELDS
    ):
        flash(
            _("Thank you! Your note shows on the profile of %(name)s.", name=(to or _other(exchange)).name), "success"
        )
        return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    return render_detail(exchange, 422, thanks_form=form)


def _other(exchange: Exchange) -> Member:
    mine = exchange.participant(acting_member())
    return next(p.member for p in exchange.participants if p.role != mine.role)


@bp.route("/<int:exchange_id>/resolve", methods=["POST"])
@login_required
def resolve(exchange_id: int):
    exchange = exchange_for(exchange_id)
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            done = submit(
                lambda: services.resolve(
                    exchange,
                    actor=logged_in_member(),
                    reason=form.reason.data,
                    minutes=form.total(),
                    cancel=form.decision.data == "cancel",
                    override_limits=form.override.data,
                ),
                form,
                fields=FORM_FIELDS,
                passthrough=(LimitExceeded,),
            )
        except LimitExceeded as refusal:
            return render_detail(exchange, 409, resolve_form=form, limit=refusal)
        if done:
            flash(_("Your decision is saved. Both members get a message with your reason."), "success")
            return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    return render_detail(exchange, 422, resolve_form=form)


# Group exchanges ------------------------------------------------------------------------------------


@bp.route("/group/new", methods=["GET", "POST"])
@login_required
def new_group():
    organiser = acting_member()
    people = picker("with", organiser.community_id, multiple=True, exclude=(organiser.id,))
    form = GroupForm()
    if form.validate_on_submit():
        actor, _helped = acting()
        done = submit(
            lambda: services.create_group(
                organiser,
                form.role.data,
                form.title.data,
                form.total(),
                people.chosen,
                actor=actor,
                date=form.date.data,
                message=form.message.data,
            ),
            form,
            fields=FORM_FIELDS,
        )
        if done:
            exchange = done.value
            flash(_("The group exchange is made. Everyone gets a message and confirms their part."), "success")
            return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    return render_template(
        "exchanges/group_form.html", form=form, people=people, helped=on_behalf_of()
    ), 422 if request.method == "POST" else 200


# Giving hours ---------------------------------------------------------------------------------------


@bp.route("/give", methods=["GET", "POST"])
@login_required
def give():
    """Give hours to a neighbour (?to=<id>), or donate them to the community fund (?to=fund)."""
    giver = acting_member()
    to_fund = request.values.get("to") == "fund"
    people = picker("to", giver.community_id, exclude=(giver.id,))
    form = GiveForm()
    if request.method == "GET":
        form.request_key.data = new_key()
    elif (to_fund or people.chosen) and form.validate_on_submit():
        to = None if to_fund else people.chosen[0]
        actor, _helped = acting()
        if submit(
            lambda: transfers.give_hours(
                giver, to, form.total(), form.memo.data, actor=actor, idempotency_key=form.request_key.data
            ),
            form,
            fields=WITHIN_LIMITS,
        ):
            flash(
                _("Done: %(time)s went to the community fund. Thank you!", time=format_minutes(form.total()))
                if to is None
                else _(
                    "Done: %(time)s went to %(name)s. They get a message.",
                    time=format_minutes(form.total()),
                    name=to.name,
                ),
                "success",
            )
            return redirect(url_for("ledger.mine"))
    return render_template(
        "exchanges/give.html", form=form, people=people, to_fund=to_fund, giver=giver, position=position_of(giver)
    ), 422 if request.method == "POST" else 200


@bp.route("/grant", methods=["GET", "POST"])
@login_required
@coordinator_required
def grant():
    """A coordinator gives a member hours from the community fund (?to=<id>)."""
    community_id = current_user.community_id
    people = picker("to", community_id)
    form = GrantForm()
    if request.method == "GET":
        form.request_key.data = new_key()
        form.show(request.args.get("minutes", type=db_int))
    elif people.chosen and form.validate_on_submit():
        member = people.chosen[0]
        if submit(
            lambda: transfers.grant_from_fund(
                member, form.total(), form.reason.data, actor=logged_in_member(), idempotency_key=form.request_key.data
            ),
            form,
            fields=WITHIN_LIMITS,
        ):
            flash(
                _(
                    "Done: %(time)s went from the community fund to %(name)s. They see your reason.",
                    time=format_minutes(form.total()),
                    name=member.name,
                ),
                "success",
            )
            back = request.args.get("exchange", type=db_int)
            return redirect(url_for("exchanges.detail", exchange_id=back) if back else url_for("ledger.fund"))
    fund = fund_account(community_id, create=False)
    return render_template(
        "exchanges/grant.html", form=form, people=people, fund_balance=fund.balance if fund else 0
    ), 422 if request.method == "POST" else 200


# Coordinators: paper slips, disputes and settings ----------------------------------------------------


@bp.route("/slip", methods=["GET", "POST"])
@login_required
@coordinator_required
def slip():
    community_id = current_user.community_id
    provider, receiver = picker("provider", community_id), picker("receiver", community_id)
    form = SlipForm()
    if request.method == "GET":
        form.request_key.data = new_key()
    elif provider.chosen and receiver.chosen and form.validate_on_submit():
        done = submit(
            lambda: services.record_paper_slip(
                provider.chosen[0],
                receiver.chosen[0],
                form.total(),
                actor=logged_in_member(),
                title=form.title.data,
                date=form.date.data,
                note=form.note.data,
                idempotency_key=form.request_key.data,
            ),
            form,
            fields=WITHIN_LIMITS,
        )
        if done:
            exchange = done.value
            flash(
                _("The paper slip is recorded: the hours moved, and both members are told.")
                if exchange.state == "completed"
                else _(
                    "The paper slip is recorded. %(name)s is asked to confirm it; the hours move when they do.",
                    name=exchange.receiver.name,
                ),
                "success",
            )
            return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    return render_template(
        "exchanges/slip.html", form=form, provider=provider, receiver=receiver
    ), 422 if request.method == "POST" else 200


@bp.route("/coordinate", methods=["GET", "POST"])
@login_required
@coordinator_required
def coordinate():
    community = current_user.community
    form = SettingsForm()
    if request.method == "GET":
        form.auto_confirm_days.data = community.exchange_auto_confirm_days
        form.max_hours.data = community.exchange_max_minutes // 60
        form.silence_margin_percent.data = community.exchange_silence_margin_percent
    elif form.validate_on_submit():
        hours = form.max_hours.data
        if submit(
            lambda: services.set_exchange_settings(
                community,
                auto_confirm_days=form.auto_confirm_days.data,
                max_minutes=hours * 60 if hours is not None else None,
                silence_margin_percent=form.silence_margin_percent.data,
                actor=logged_in_member(),
            ),
            form,
            fields=FORM_FIELDS,
        ):
            flash(_("Saved. Exchanges that are under way keep their date."), "success")
            return redirect(url_for("exchanges.coordinate"))
    open_count = db.session.scalar(
        sa.select(sa.func.count(Exchange.id)).where(
            Exchange.community_id == community.id, Exchange.state.in_(OPEN_STATES)
        )
    )
    return render_template(
        "exchanges/coordinate.html",
        form=form,
        community=community,
        waiting=services.open_disputes(community.id),
        open_count=open_count,
    ), 422 if request.method == "POST" else 200
