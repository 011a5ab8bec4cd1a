"""What the cooperative's voting refuses, each said as a plain sentence in the reader's language."""

from timebank.errors import DomainError


class GovernanceError(DomainError):
    """A proposal, vote or comment that the rules do not allow; nothing was changed."""

    code = "invalid"
    status = 422

    def __init__(
        self, message, field: str | None = None, *, code: str | None = None, status: int | None = None, **details
    ):
        super().__init__(message, field, **details)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class ProposalNotFound(GovernanceError):
    """Another community's proposal is, for this member, a proposal that does not exist."""

    code = "not_found"
    status = 404


class NotAllowed(GovernanceError):
    code = "forbidden"
    status = 403


class VotingClosed(GovernanceError):
    code = "voting_closed"
    status = 409


class Locked(GovernanceError):
    """Editing after the first vote, closing before the end, voting twice on a secret ballot."""

    code = "conflict"
    status = 409
