"""GET /api/v1/notifications and POST /api/v1/notifications/read: what the app told the caller,
in their language, as on the Notifications page."""

import sqlalchemy as sa
from flask_login import current_user
from marshmallow import Schema, fields

from timebank.api.auth import token_required
from timebank.api.common import BEARER, PageArgs, api_blueprint, documents_errors, id_field, page_of, paginate
from timebank.api.idempotency import writes
from timebank.notifications import services
from timebank.notifications.models import Notification

bp = api_blueprint("api-notifications", "What happened to the caller's exchanges and hours.")


class NotificationSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(
        required=True,
        metadata={
            "description": "What happened: `proposed`, `accepted`, `recorded`, `completed`, `message`, `gift`, …"
        },
    )
    text = fields.Function(
        services.describe,
        required=True,
        metadata={"type": "string", "description": "One sentence in the caller's language."},
    )
    exchange_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The exchange it is about, if any."}
    )
    web_url = fields.Function(
        lambda notification: services.link(notification, external=True),
        required=True,
        metadata={"type": "string", "description": "Where the web app shows it."},
    )
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(required=True, allow_none=True)


class NotificationFilterArgs(PageArgs):
    unread = fields.Boolean(metadata={"description": "true: only those not read yet."})


class WhichToRead(Schema):
    notification_id = id_field(metadata={"description": "Only this one."})
    exchange_id = id_field(metadata={"description": "Only those about this exchange."})


class ReadSchema(Schema):
    marked = fields.Integer(required=True, metadata={"description": "How many were unread and are read now."})


@bp.route("/notifications")
@token_required
@bp.arguments(NotificationFilterArgs, location="query")
@bp.response(200, page_of(NotificationSchema))
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 422)
def list_notifications(args):
    """The caller's notifications, newest first."""
    query = sa.select(Notification).where(Notification.member_id == current_user.id)
    if args.get("unread"):
        query = query.where(Notification.read_at.is_(None))
    return paginate(query.order_by(Notification.id.desc()), args)


@bp.route("/notifications/read", methods=["POST"])
@token_required
@writes
@bp.arguments(WhichToRead, required=False, example={"exchange_id": 12})
@bp.response(200, ReadSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 422)
def mark_read(body):
    """Mark the caller's notifications as read: all of them, or one, or those about one exchange.

    Ids that are not the caller's mark nothing."""
    return {
        "marked": services.mark_read(
            current_user, notification_id=body.get("notification_id"), exchange_id=body.get("exchange_id")
        )
    }
