"""How many minutes an exchange can still move between two members, said before anyone does the
work: at proposing and at accepting, not only when the hours fail to move at confirmation."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from timebank.exchanges.errors import ExchangeError
from timebank.i18n import format_minutes
from timebank.ledger.position import position_of
from timebank.members.models import Member


@dataclass(frozen=True)
class Room:
    """Minutes left above the payer's floor and below the provider's ceiling (None: no limit)."""

    payer: Member
    provider: Member
    payer_can_pay: int | None
    provider_can_receive: int | None
    levy_percent: int

    @property
    def fits(self) -> int | None:
        """The most minutes an exchange between them can move now; the provider receives them
        less the fund's share, so their ceiling allows a little more than its room."""
        fits = self.payer_can_pay
        if self.provider_can_receive is not None and self.levy_percent < 100:
            most = self.provider_can_receive * 100 // (100 - self.levy_percent) + 1
            while most - most * self.levy_percent // 100 > self.provider_can_receive:
                most -= 1
            fits = most if fits is None else min(fits, most)
        return fits

    def tight_side(self) -> Member:
        """Whose limit decides how much fits."""
        if self.payer_can_pay is not None and self.fits == self.payer_can_pay:
            return self.payer
        return self.provider


def room_between(payer: Member, provider: Member) -> Room:
    return Room(
        payer, provider, position_of(payer).can_pay, position_of(provider).can_earn, payer.community.ledger_levy_percent
    )


class NoRoom(ExchangeError):
    """More minutes than the two balances allow now; the message is addressed to `reader`."""

    code = "limit_exceeded"
    status = 409

    def __init__(self, room: Room, minutes: int, reader: Member, *, proposing: bool):
        self.room, self.minutes = room, minutes
        # `fits` goes into the API's error, so a client can offer the amount that would be accepted.
        super().__init__(" ".join(str(part) for part in self._say(reader, proposing)), "minutes", fits=room.fits)

    def _say(self, reader: Member, proposing: bool) -> tuple:
        room, fits = self.room, format_minutes(self.room.fits)
        side = room.tight_side()
        if side.id == reader.id:
            why = (
                _l("Your balance may not go lower: you can pay for at most %(fits)s of help now.", fits=fits)
                if side.id == room.payer.id
                else _l("Your balance may not go higher: you can be paid for at most %(fits)s of help now.", fits=fits)
            )
        else:
            why = _l("The balance of %(name)s allows at most %(fits)s now.", name=side.name, fits=fits)
        if not room.fits:
            then = _l("Ask a coordinator: they can help with hours from the community fund or a decision.")
        elif proposing:
            then = _l("Propose %(fits)s or less, or ask a coordinator for help first.", fits=fits)
        else:
            then = _l("Decline and ask for a proposal of at most %(fits)s, or ask a coordinator for help.", fits=fits)
        return why, then


def check_room(payer: Member, provider: Member, minutes: int, reader: Member, *, proposing: bool) -> Room:
    """Refuse (NoRoom, nothing changed) when the minutes would not fit between the two balances."""
    room = room_between(payer, provider)
    if room.fits is not None and minutes > room.fits:
        raise NoRoom(room, minutes, reader, proposing=proposing)
    return room
