"""Exchanges: GET/POST /api/v1/exchanges, GET /api/v1/exchanges/{id}, its steps (accept, decline,
cancel, dispute, record, confirm) and its conversation.

The same services and rules as the exchange pages, acting as the token's member. An exchange is
seen by its participants and the coordinators of its community (as on the web pages); for anyone
else it is 404 as if it did not exist. A coordinator who is not a participant may look but not
act (403), and reads the conversation only while a dispute waits for them. A step the state does
not allow is 409: `illegal_transition`, or `already_done` when that very step was taken already
(a double tap). Confirming settles the hours once, however often it is sent."""

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields, validate

from timebank.api.auth import token_required
from timebank.api.common import (
    BEARER,
    PATH_ID,
    PageArgs,
    StrictInteger,
    Text,
    api_blueprint,
    documents_errors,
    envelope,
    id_field,
    page_of,
    paginate,
)
from timebank.api.idempotency import writes
from timebank.api.posts import OwnerSchema, visible_post
from timebank.exchanges import services
from timebank.exchanges.models import KINDS, ROLES, STATES, Exchange
from timebank.exchanges.services import MESSAGE_MAX, REASON_MAX
from timebank.exchanges.wording import event_text, status
from timebank.extensions import db
from timebank.permissions import can_read_thread, can_see_exchange

bp = api_blueprint(
    "api-exchanges",
    "Exchanges between neighbours: propose one on a post, take it step by step to settled hours, and talk about it.",
)

MINUTES = "Whole minutes above 0, at most the community's maximum for one exchange (8 hours unless it chose otherwise)."


class Computed(fields.Nested):
    """A nested object worked out from the whole item, documented by its schema."""

    def __init__(self, nested, compute, **kwargs):
        super().__init__(nested, **kwargs)
        self.compute = compute

    def get_value(self, obj, attr, accessor=None, default=None):
        return self.compute(obj)


class ParticipantSchema(Schema):
    member_id = fields.Integer(required=True)
    name = fields.String(required=True, attribute="member.name")
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    answer = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(("confirmed", "declined")),
        metadata={"description": "Group exchanges: the member's answer about their part."},
    )


class StatusSchema(Schema):
    happened = fields.String(required=True, metadata={"description": "What has happened, for the caller."})
    next = fields.String(required=True, metadata={"description": "What happens next, and who does it."})
    needs_you = fields.Boolean(required=True, metadata={"description": "The next step is the caller's."})


class ExchangeSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(
        required=True,
        validate=validate.OneOf(KINDS),
        metadata={
            "description": "`single`: from a post. `group`: one organiser and several others. `slip`: a "
            "coordinator recorded it from a paper slip."
        },
    )
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    title = fields.String(required=True)
    post_id = fields.Integer(required=True, allow_none=True)
    provider_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null in a group exchange with several providers."}
    )
    receiver_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null in a group exchange with several receivers."}
    )
    proposer_id = fields.Integer(required=True, metadata={"description": "Who proposed (or organised) it."})
    minutes = fields.Integer(
        required=True,
        metadata={"description": "The agreed minutes; once completed, the minutes that moved (in a group: each)."},
    )
    recorded_minutes = fields.Integer(
        required=True, allow_none=True, metadata={"description": "How long the provider said it took."}
    )
    offered_minutes = fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "The receiver confirmed fewer minutes than recorded; the provider agrees or disputes."
        },
    )
    planned_on = fields.Date(required=True, allow_none=True)
    reason = fields.String(
        required=True,
        metadata={"description": "Why it was declined, cancelled or disputed, or how a coordinator decided."},
    )
    transaction_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The ledger transaction, once completed."}
    )
    participants = fields.List(fields.Nested(ParticipantSchema), required=True)
    status = Computed(
        StatusSchema,
        lambda exchange: status(exchange, _party_member(exchange)),
        required=True,
        metadata={"description": "In the caller's language, as the exchange page says it."},
    )
    auto_confirm_at = fields.DateTime(
        required=True,
        allow_none=True,
        metadata={
            "description": "The recorded time settles by itself then, unless the receiver confirms or disputes first. "
            "null when only the receiver can settle it: more time recorded than the community lets "
            "silence settle, or a paper slip."
        },
    )
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(required=True, allow_none=True)


class MessageSchema(Schema):
    id = fields.Integer(required=True)
    author = fields.Nested(
        OwnerSchema,
        required=True,
        allow_none=True,
        metadata={"description": "In whose name; null: the time bank itself."},
    )
    event = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "null: a message someone wrote. Else a step of the exchange (`proposed`, `accepted`, …)."
        },
    )
    summary = fields.Function(
        lambda message: event_text(message) if message.event else None,
        required=True,
        allow_none=True,
        metadata={"type": "string", "description": "The step in the caller's language."},
    )
    text = fields.String(
        required=True,
        attribute="body",
        metadata={"description": "What the author wrote (with a step: their message or reason)."},
    )
    created_at = fields.DateTime(required=True)


class ExchangeFilterArgs(PageArgs):
    state = fields.String(validate=validate.OneOf(STATES))


class NewExchange(Schema):
    post_id = id_field(required=True, metadata={"description": "An offer or request of the caller's community."})
    minutes = StrictInteger(required=True, metadata={"description": MINUTES})
    message = Text(metadata={"description": f"To the post's owner; at most {MESSAGE_MAX} characters."})
    date = fields.Date(metadata={"description": "The day, if known; within a year from today."})


class Reason(Schema):
    reason = Text(metadata={"description": f"At most {REASON_MAX} characters."})


class RequiredReason(Schema):
    reason = Text(required=True, metadata={"description": f"At most {REASON_MAX} characters; not empty."})


class Recorded(Schema):
    minutes = StrictInteger(required=True, metadata={"description": f"How long it took. {MINUTES}"})


class Confirmed(Schema):
    minutes = StrictInteger(
        metadata={"description": "The minutes to pay, if not those recorded (or, without a record, agreed)."}
    )


class NewMessage(Schema):
    text = Text(required=True, metadata={"description": f"At most {MESSAGE_MAX} characters; not empty."})


# Exchanges -------------------------------------------------------------------------------------


@bp.route("/exchanges")
@token_required
@bp.arguments(ExchangeFilterArgs, location="query")
@bp.response(200, page_of(ExchangeSchema))
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 422)
def list_exchanges(args):
    """The caller's exchanges, most recently changed first."""
    states = (args["state"],) if "state" in args else None
    return paginate(services.exchanges_query(current_user, states=states), args)


@bp.route("/exchanges", methods=["POST"])
@token_required
@writes
@bp.arguments(NewExchange, example={"post_id": 1, "minutes": 90, "message": "Saturday morning?"})
@bp.response(201, ExchangeSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 404, 409, 422)
def propose(body):
    """Respond to a post: to an offer as the one who is helped, to a request as the one who helps.

    The post's owner is told and accepts or declines. Proposing again on the same post while the
    first proposal is under way answers that one. A post no longer in the market is 409
    `post_unavailable`; more minutes than fit between the two balances now (above the payer's
    floor, below the provider's ceiling) is 409 `limit_exceeded`, saying how much fits, with those minutes
    in the error's `fits`; one's own post or a free gift is 422."""
    post = visible_post(body["post_id"])
    member = current_user._get_current_object()
    return services.propose(
        post, member, body["minutes"], actor=member, message=body.get("message", ""), date=body.get("date")
    )


@bp.route(f"/exchanges/<{PATH_ID}:exchange_id>")
@token_required
@bp.response(200, ExchangeSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 404)
def get_exchange(exchange_id: int):
    """One exchange of the caller (or, for a coordinator, of their community)."""
    return visible_exchange(exchange_id)


@bp.route(f"/exchanges/<{PATH_ID}:exchange_id>/accept", methods=["POST"])
@token_required
@writes
@bp.response(200, ExchangeSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 409)
def accept(exchange_id: int):
    """The post's owner says yes to a proposal. When the balances changed since it was proposed and
    its minutes no longer fit between them, it is 409 `limit_exceeded`, nothing changed, with the
    minutes that still fit in the error's `fits`: decline and ask for a proposal of at most that."""
    return services.accept(visible_exchange(exchange_id), actor=current_user._get_current_object())


@bp.route(f"/exchanges/<{PATH_ID}:exchange_id>/decline", methods=["POST"])
@token_required
@writes
@bp.arguments(Reason, required=False, example={"reason": "I am away that week."})
@bp.response(200, ExchangeSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 409, 422)
def decline(body, exchange_id: int):
    """Say no to a proposal (in a group exchange: say that one does not take part). No hours move."""
    return services.decline(
        visible_exchange(exchange_id), actor=current_user._get_current_object(), reason=body.get("reason", "")
    )


@bp.route(f"/exchanges/<{PATH_ID}:exchange_id>/cancel", methods=["POST"])
@token_required
@writes
@bp.arguments(RequiredReason, example={"reason": "We found another day does not work."})
@bp.response(200, ExchangeSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 409, 422)
def cancel(body, exchange_id: int):
    """Call it off before it is settled, with a reason the others read. No hours move."""
    return services.cancel(visible_exchange(exchange_id), body["reason"], actor=current_user._get_current_object())


@bp.route(f"/exchanges/<{PATH_ID}:exchange_id>/dispute", methods=["POST"])
@token_required
@writes
@bp.arguments(RequiredReason, example={"reason": "It took one hour, not three."})
@bp.response(200, ExchangeSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 409, 422)
def dispute(body, exchange_id: int):
    """Ask a coordinator to decide about an accepted exchange; nothing settles by itself meanwhile."""
    return services.dispute(visible_exchange(exchange_id), body["reason"], actor=current_user._get_current_object())


@bp.route(f"/exchanges/<{PATH_ID}:exchange_id>/record", methods=["POST"])
@token_required
@writes
@bp.arguments(Recorded, example={"minutes": 120})
@bp.response(200, ExchangeSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 409, 422)
def record(body, exchange_id: int):
    """The provider says how long it took. The receiver confirms, or it settles by itself after
    the community's number of days (`auto_confirm_at`)."""
    return services.record_minutes(
        visible_exchange(exchange_id), body["minutes"], actor=current_user._get_current_object()
    )


@bp.route(f"/exchanges/<{PATH_ID}:exchange_id>/agree", methods=["POST"])
@token_required
@writes
@bp.response(200, ExchangeSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 409)
def agree(exchange_id: int):
    """The provider agrees to the fewer minutes the receiver confirmed (`offered_minutes`): they
    move now. Not agreeing: dispute instead."""
    return services.agree(visible_exchange(exchange_id), actor=current_user._get_current_object())


@bp.route(f"/exchanges/<{PATH_ID}:exchange_id>/confirm", methods=["POST"])
@token_required
@writes
@bp.arguments(Confirmed, required=False, example={"minutes": 120})
@bp.response(200, ExchangeSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 409, 422)
def confirm(body, exchange_id: int):
    """The receiver confirms: the hours move now, in one ledger transaction (`transaction_id`).

    Fewer minutes than the provider recorded move only when the provider agrees (`agree`), says
    nothing for the community's number of days, or a coordinator decides a dispute: until then
    the exchange stays `accepted` with `offered_minutes`. In a group exchange a member confirms
    their own part. A balance limit that refuses is 409 `limit_exceeded`, saying the limit and how
    much still fits; nothing moved."""
    return services.confirm(
        visible_exchange(exchange_id), actor=current_user._get_current_object(), minutes=body.get("minutes")
    )


# The conversation ------------------------------------------------------------------------------


@bp.route(f"/exchanges/<{PATH_ID}:exchange_id>/messages")
@token_required
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_of(MessageSchema))
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 422)
def list_messages(args, exchange_id: int):
    """The exchange's story, oldest first: what was written and each step taken."""
    exchange = visible_exchange(exchange_id)
    if not can_read_thread(current_user, exchange):
        abort(
            403,
            _(
                "The conversation is for the members in this exchange. Coordinators read it when "
                "they are asked to decide."
            ),
        )
    messages = services.thread(exchange)
    start = (args["page"] - 1) * args["per_page"]
    return envelope(messages[start : start + args["per_page"]], args, len(messages))


@bp.route(f"/exchanges/<{PATH_ID}:exchange_id>/messages", methods=["POST"])
@token_required
@writes
@bp.arguments(NewMessage, example={"text": "I can come at ten."})
@bp.response(201, MessageSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 422)
def write_message(body, exchange_id: int):
    """Write in the exchange's conversation; the other participants are told."""
    member = current_user._get_current_object()
    return services.post_message(visible_exchange(exchange_id), member, body["text"], actor=member)


def visible_exchange(exchange_id: int) -> Exchange:
    """As the exchange pages decide: its participants and the coordinators of its community."""
    exchange = db.get_or_404(Exchange, exchange_id)
    if not can_see_exchange(current_user, exchange):
        abort(404)
    return exchange


def _party_member(exchange: Exchange):
    """The caller if they take part; None for a coordinator looking on."""
    return current_user if exchange.participant(current_user) is not None else None
