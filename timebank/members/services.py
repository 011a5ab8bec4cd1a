"""Joining, signing in, profiles, roles and the end of a membership, as one namespace for their
callers (`from timebank.members import services`); each part lives in its own module: rules
(limits, refusals, checking what people type), joining, profiles, sessions (signing in and out,
passwords), email_change, decisions (coordinators' decisions about members) and erasure.

Services flush, never commit; the view or command that called them commits once. They raise
MemberError with a plain-language message (and the form field it belongs to, if any)."""
from timebank.members.decisions import reactivate_member, set_coordinator, suspend_member
from timebank.members.email_change import (
    confirm_email_change,
    pending_email_change,
    request_email_change,
    undo_email_change,
)
from timebank.members.erasure import ERASERS, erase_member, register_eraser, request_erasure
from timebank.members.first_steps import first_steps, put_first_steps_away, understood_hours
from timebank.members.joining import (
    MOTIVATION_MAX,
    community_languages,
    confirm_email,
    create_member,
    decide_join_request,
    join_problems,
    pending_join_request,
    register_assisted_member,
    register_member,
    resend_confirmation,
    send_confirmation,
    usual_wait_days,
    waiting_join_requests,
)
from timebank.members.profiles import directory, done_for, update_privacy, update_profile
from timebank.members.rules import (
    AUDIT_LABELS,
    BIO_MAX,
    NAME_MAX,
    PHONE_RE,
    REASON_MAX,
    UNSAFE_IN_NAMES,
    MemberError,
    MemberErrors,
    NotAllowed,
    WrongPassword,
    check_new_password,
    clean_email,
    clean_name,
    coordinators_of,
)
from timebank.members.sessions import (
    change_password,
    end_all_sessions,
    end_session,
    log_out_everywhere,
    member_of_session,
    request_password_reset,
    reset_password,
    start_session,
)

__all__ = [
    "ERASERS",
    "NAME_MAX", "BIO_MAX", "REASON_MAX", "UNSAFE_IN_NAMES", "PHONE_RE", "AUDIT_LABELS", "MemberError", "MemberErrors",
    "WrongPassword", "NotAllowed", "clean_name", "clean_email", "check_new_password", "coordinators_of",
    "first_steps", "put_first_steps_away", "understood_hours",
    "MOTIVATION_MAX", "community_languages", "join_problems", "usual_wait_days",
    "register_member", "send_confirmation", "resend_confirmation", "pending_join_request", "confirm_email",
    "decide_join_request", "waiting_join_requests", "create_member", "register_assisted_member",
    "update_profile", "update_privacy", "directory", "done_for", "start_session", "end_session",
    "member_of_session", "end_all_sessions", "change_password", "log_out_everywhere", "request_password_reset",
    "reset_password", "request_email_change", "pending_email_change", "confirm_email_change",
    "undo_email_change", "suspend_member", "reactivate_member", "set_coordinator", "request_erasure",
    "register_eraser", "erase_member",
]
