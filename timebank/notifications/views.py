"""The notification list (with the unread count in the menu), opening one, marking all as read,
and choosing how to get emails."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from timebank.db import db_int
from timebank.extensions import db
from timebank.members.acting import acting_member
from timebank.notifications import services
from timebank.notifications.models import Notification
from timebank.web.fields import RadioChoiceField
from timebank.web.submit import submit

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
PAGE_SIZE = 30

bp.add_app_template_global(services.describe, "describe_notification")
bp.add_app_template_global(services.link, "notification_link")


@bp.app_template_global()
def unread_notifications() -> int:
    """For the menu: how many notifications the member (or the one helped) has not read."""
    if "unread_notifications" not in g:
        g.unread_notifications = services.unread_count(acting_member()) if current_user.is_authenticated else 0
    return g.unread_notifications


# Plain-language names for the events in services.EMAIL_EVENTS, in that order.
EVENT_LABELS = {
    "proposals": _l("Someone proposes an exchange to you, or adds you to a group exchange"),
    "answers": _l("An exchange is accepted, declined or cancelled, or a proposal ends unanswered"),
    "recorded": _l("Time is recorded and waits for your confirmation"),
    "settled": _l("An exchange is settled and hours move"),
    "disputes": _l("Disputes, requests for help and coordinators' decisions"),
    "messages": _l("Messages in an exchange"),
    "thanks": _l("Thank-you notes"),
    "limits": _l("Low balance and limit warnings"),
    "gifts": _l("Hours given to you or granted from the community fund"),
    "decisions": _l("The result of a vote in the neighbourhood"),
    "reports": _l("What coordinators decided about something you reported, or about something of yours"),
}


class EmailChoiceForm(FlaskForm):
    email = RadioChoiceField(
        _l("When do you want an email about your exchanges and hours?"),
        choices=[
            SelectChoice("immediately", _l("Right away, one email for each event")),
            SelectChoice("daily", _l("Once a day, one email with everything new")),
            SelectChoice("off", _l("No emails: I look in the app")),
        ],
    )

    def events(self) -> list:
        return [self[event] for event in EVENT_LABELS]


# One row of choices per event; FlaskForm classes take fields added after they are made.
for _event, _label in EVENT_LABELS.items():
    setattr(
        EmailChoiceForm,
        _event,
        RadioChoiceField(
            _label,
            choices=[
                SelectChoice(services.AS_DEFAULT, _l("As above")),
                SelectChoice("immediately", _l("Right away")),
                SelectChoice("daily", _l("Once a day")),
                SelectChoice("off", _l("No email")),
            ],
        ),
    )


@bp.route("")
@login_required
def index():
    member = acting_member()
    before = request.args.get("before", type=db_int)
    items = services.recent(member, before=before, limit=PAGE_SIZE + 1)
    older = items[PAGE_SIZE - 1].id if len(items) > PAGE_SIZE else None
    return render_template(
        "notifications/index.html",
        items=items[:PAGE_SIZE],
        older=older,
        member=member,
        unread=unread_notifications(),
    )


@bp.route("/<int:notification_id>")
@login_required
def open_one(notification_id: int):
    """Follow a notification to what it is about; it counts as read from now on."""
    notification = db.get_or_404(Notification, notification_id)
    if notification.member_id != acting_member().id:
        abort(404)
    target = services.link(notification)
    if notification.read_at is None:
        services.read_now(acting_member(), notification_id=notification.id)
    return redirect(target)


@bp.route("/read", methods=["POST"])
@login_required
def read_all():
    submit(lambda: services.mark_read(acting_member()))
    flash(_("Everything is marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    member = acting_member()
    form = EmailChoiceForm(email=member.notify_email, **services.email_choices(member))
    if form.validate_on_submit():
        events = {field.name: field.data for field in form.events()}
        if submit(lambda: services.set_email_choice(member, form.email.data, events), form):
            if any(choice != services.AS_DEFAULT for choice in events.values()):
                flash(_("Saved. You get emails as you chose for each kind of event."), "success")
            else:
                flash(
                    {
                        "immediately": _("Saved. You get an email right away when something happens."),
                        "daily": _("Saved. You get one email a day when something happened."),
                        "off": _("Saved. You get no emails about exchanges; look under Notifications in the app."),
                    }[form.email.data],
                    "success",
                )
            return redirect(url_for("settings.index"))
    return render_template(
        "notifications/settings.html", form=form, member=member
    ), 422 if request.method == "POST" else 200
