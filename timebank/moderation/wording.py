"""The words of moderation that other domains show too (a notification tells the reporter and
the author what was decided), kept apart so that they import nothing."""

from flask_babel import lazy_gettext as _l

ITEM_LABELS = {
    "post": _l("a post"),
    "message": _l("a message"),
    "profile": _l("a profile"),
    "thanks": _l("a thank-you note"),
}
# What a reporter is told: what was decided, never by whom or who else reported.
TOLD_REPORTER = {
    "hide": _l("A coordinator looked at it and hid it."),
    "restore": _l("A coordinator looked at it again and put it back."),
    "warn": _l("A coordinator looked at it and talked to the author."),
    "suspend": _l("A coordinator looked at it, hid it and took measures with the author's account."),
    "dismiss": _l("A coordinator looked at it and found nothing against the house rules."),
}
# What the author is told, before the coordinator's own reason.
TOLD_AUTHOR = {
    "hide": _l("A coordinator hid it: nobody else sees it now."),
    "restore": _l("A coordinator put it back: everyone sees it again."),
    "warn": _l("A coordinator left it, but asks you to mind the house rules."),
    "suspend": _l("A coordinator hid it and paused your account."),
    "dismiss": _l("A coordinator found nothing wrong with it."),
    "keep": _l("A coordinator read your reply and keeps the decision as it was."),
}
