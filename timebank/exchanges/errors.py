"""What the exchange rules refuse, each as a plain sentence. Nothing was changed when one is raised."""

from flask_babel import lazy_gettext as _l

from timebank.errors import DomainError


class ExchangeError(DomainError):
    """Invalid input: the message says what to fix; `field` names the form field."""

    code = "invalid_exchange"
    status = 422


class NotAParty(ExchangeError):
    """Only the members in the exchange (or a coordinator helping one of them) may do this."""

    code = "not_a_party"
    status = 403

    def __init__(self, message=None):
        super().__init__(message or _l("This is not your exchange, so you cannot do this."))


class NotAllowed(ExchangeError):
    code = "forbidden"
    status = 403


class IllegalTransition(ExchangeError):
    """The exchange is not in a state where this can happen (any more)."""

    code = "illegal_transition"
    status = 409


class AlreadyDone(IllegalTransition):
    """The same step was taken already (a double click, a retry): nothing more happened."""

    code = "already_done"
    category = "info"

    def __init__(self):
        super().__init__(_l("This was done already. Nothing more was changed."))


class PostUnavailable(ExchangeError):
    code = "post_unavailable"
    status = 409
