"""What the ledger refuses, each said as a plain sentence in the reader's language.

The message is made when it is shown (str(error)), so it comes out in the language of the page
or command that shows it, not of the place that raised it."""

from flask_babel import gettext as _

from timebank.errors import DomainError
from timebank.i18n import format_minutes

# The largest single amount: 10,000 hours. Anything bigger is a typing mistake.
MAX_MINUTES = 10_000 * 60


class LedgerError(DomainError):
    """Base of every refusal; nothing was written when one is raised."""

    field = None

    def __init__(self, *args):
        Exception.__init__(self, *args)

    def describe(self) -> str:
        raise NotImplementedError

    @property
    def message(self) -> str:
        return self.describe()


class InvalidAmount(LedgerError):
    """Not a usable number of minutes (zero, negative, too large, not whole, not summing to zero)."""

    code = "invalid_amount"
    status = 422

    def __init__(self, amount=None):
        super().__init__(amount)
        self.amount = amount

    def describe(self) -> str:
        return _(
            "The amount must be a whole number of minutes above zero, and not more than %(max)s.",
            max=format_minutes(MAX_MINUTES),
        )


class InvalidTransaction(LedgerError):
    """A transaction that cannot be written as asked; `reason` says why in a few words."""

    code = "invalid_transaction"
    status = 422

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def describe(self) -> str:
        return {
            "same_account": _("Hours cannot go from an account to the same account."),
            "too_few_legs": _("A transaction moves hours between at least two accounts."),
            "duplicate_account": _("Each account can appear only once in a transaction."),
            "unbalanced": _("The hours taken and the hours given must be equal."),
            "other_community": _("Hours can only move between accounts of the same community."),
            "kind": _("This kind of transaction does not exist."),
            "reason_required": _("Please write down why."),
            "reversal_of_reversal": _("A correction cannot be undone. Make a new transfer instead."),
            "reversal_by_post": _("Corrections are made by undoing the transaction."),
            "nonzero_balance": _("An account can only be closed when its balance is zero."),
            "memo_too_long": _("The description can be at most 500 characters long."),
            "unknown_account": _("One of these accounts does not exist."),
            "key": _("This request cannot be used. Please start again."),
            "conflict": _("Something changed in the meantime. Please try again."),
            "same_community": _("Both members are in the same community: this is an ordinary transfer."),
            "clearing": _("Hours move through a clearing account only in an exchange between linked communities."),
            "no_link": _("These two communities have no link that lets hours move between them."),
        }.get(self.reason, _("This transaction cannot be made."))


class InvalidSetting(LedgerError):
    """A limit, the low-balance warning or the levy out of range. `field` names the setting
    ("floor", "ceiling", "warning", "levy_percent"), so a form shows the sentence next to it."""

    code = "invalid_setting"
    status = 422

    def __init__(self, field: str, *, floor: int | None = None, ceiling: int | None = None):
        super().__init__(field)
        self.field, self.floor, self.ceiling = field, floor, ceiling

    def describe(self) -> str:
        if self.field == "floor":
            return _("How much a member may owe must be between 0 and %(max)s.", max=format_minutes(MAX_MINUTES))
        if self.field == "ceiling":
            return _("How many hours a member may save must be between 0 and %(max)s.", max=format_minutes(MAX_MINUTES))
        if self.field == "warning":
            return _(
                "The warning must be between the lowest balance (%(floor)s) and the highest (%(ceiling)s), "
                "or left empty.",
                floor=format_minutes(self.floor),
                ceiling=format_minutes(self.ceiling),
            )
        return _("The share for the community fund must be a whole number from 0 to 100.")


class LimitExceeded(LedgerError):
    """The transaction would take an account below its floor or above its ceiling."""

    code = "limit_exceeded"
    status = 409

    def __init__(self, *, account_id: int, owner: str, limit: int, balance: int, amount: int):
        super().__init__(account_id, limit, balance, amount)
        self.account_id, self.owner, self.limit, self.balance, self.amount = account_id, owner, limit, balance, amount
        self.direction = "floor" if amount < 0 else "ceiling"
        self.room = max(0, balance - limit if amount < 0 else limit - balance)

    def describe(self) -> str:
        values = dict(
            name=self.owner or _("the community fund"),
            limit=format_minutes(self.limit),
            balance=format_minutes(self.balance),
            room=format_minutes(self.room),
        )
        if self.direction == "floor":
            return _(
                "This is not possible: the balance of %(name)s may not go below %(limit)s. "
                "It is %(balance)s now, so at most %(room)s can still be paid.",
                **values,
            )
        return _(
            "This is not possible: the balance of %(name)s may not go above %(limit)s. "
            "It is %(balance)s now, so at most %(room)s can still be received.",
            **values,
        )


class AccountClosed(LedgerError):
    """The account is suspended or closed and accepts no postings."""

    code = "account_closed"
    status = 409

    def __init__(self, *, account_id: int, owner: str, status: str):
        super().__init__(account_id, status)
        self.account_id, self.owner, self.status = account_id, owner, status

    def describe(self) -> str:
        if self.status == "suspended":
            return _(
                "The account of %(name)s is paused, so no hours can go in or out now. A coordinator can help.",
                name=self.owner,
            )
        return _("The account of %(name)s is closed, so no hours can go in or out.", name=self.owner)


class IdempotencyConflict(LedgerError):
    """The request key was used before for a different transaction."""

    code = "idempotency_key_reused"
    status = 422

    def __init__(self, key: str, transaction_id: int):
        super().__init__(key, transaction_id)
        self.key, self.transaction_id = key, transaction_id

    def describe(self) -> str:
        return _("This request was already used for another transaction, so nothing was done. Please start again.")


class AlreadyReversed(LedgerError):
    """The transaction has been undone already; a transaction is undone once only."""

    code = "already_reversed"
    status = 409

    def __init__(self, transaction_id: int, reversal_id: int):
        super().__init__(transaction_id, reversal_id)
        self.transaction_id, self.reversal_id = transaction_id, reversal_id

    def describe(self) -> str:
        return _("This transaction was already undone. Nothing was changed.")


class NotAllowed(LedgerError):
    """The actor may not do this (override a limit, undo a transaction)."""

    code = "forbidden"
    status = 403

    def describe(self) -> str:
        return _("Only a coordinator of this community can do this.")


class OwnAccount(NotAllowed):
    """Coordinators do not set the limits or the status of their own account, nor let it past a limit."""

    def describe(self) -> str:
        return _("This is about your own account, so another coordinator has to do it.")


class IntoOwnAccount(NotAllowed):
    """Nobody authorises hours into their own account out of someone else's (a grant to oneself,
    undoing one's own payment, a slip or a confirmation for an assisted member that pays oneself):
    another coordinator, or the payer, must do it."""

    code = "own_account"

    def describe(self) -> str:
        return _(
            "These hours would go into your own account, so you cannot decide this yourself. "
            "Ask another coordinator to do it."
        )
