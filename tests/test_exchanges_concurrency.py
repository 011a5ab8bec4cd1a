"""Two confirms of one exchange at the same moment, on the real database (SQLite and PostgreSQL):
exactly one settles, the other is told it was done already, and one transaction is written."""

from timebank.db import take_write_lock
from timebank.exchanges import services as ex
from timebank.exchanges.errors import AlreadyDone
from timebank.exchanges.models import Exchange
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Transaction
from timebank.ledger.verify import verify
from timebank.members.models import Member

from .concurrency import in_threads
from .conftest import count


def test_concurrent_confirms_settle_exactly_once(app, make_member, make_post):
    fatima, jan = make_member("Fatima"), make_member("Jan")
    offers = [make_post(fatima, title=f"Help {i}") for i in range(5)]
    with app.app_context():
        ids = []
        for offer in offers:
            exchange = ex.propose(
                db.session.get(type(offer), offer.id),
                db.session.get(Member, jan.id),
                30,
                actor=db.session.get(Member, jan.id),
            )
            ex.accept(exchange, actor=db.session.get(Member, fatima.id))
            ids.append(exchange.id)
        db.session.commit()

    def confirm(exchange_id, minutes):
        def job():
            take_write_lock(db.session)  # as every POST request does first
            exchange = ex.confirm(
                db.session.get(Exchange, exchange_id), actor=db.session.get(Member, jan.id), minutes=minutes
            )
            db.session.commit()
            return exchange.transaction_id

        return job

    for exchange_id in ids:
        # Even with different minutes in the two requests, only one of them moves hours.
        pair = in_threads(app, [confirm(exchange_id, 30), confirm(exchange_id, 45)])
        assert sorted(type(result).__name__ for result in pair) == ["AlreadyDone", "int"], pair
        assert any(isinstance(result, AlreadyDone) for result in pair)
    with app.app_context():
        assert count(Transaction) == 5
        paid = -ledger.balance(ledger.account_for(db.session.get(Member, jan.id)))
        assert paid == sum(db.session.get(Exchange, i).minutes for i in ids) and verify().ok
