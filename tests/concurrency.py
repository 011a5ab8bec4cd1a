"""The harness the concurrency tests share: jobs released at once in their own threads, and a
loop of payments that counts how many the limits refused."""

import threading

from timebank.extensions import db
from timebank.ledger.errors import LimitExceeded


def in_threads(app, jobs):
    """Run each job (a function) in its own thread and app context, all released at once by a
    barrier; returns what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(index, job):
        with app.app_context():
            barrier.wait()
            try:
                results[index] = job()
            except Exception as error:  # collected, so the test can say which ones lost
                db.session.rollback()
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def refusals(times, pay):
    """Call `pay(i)` `times` times, each in its own committed transaction; how many a limit refused."""
    refused = 0
    for i in range(times):
        try:
            pay(i)
            db.session.commit()
        except LimitExceeded:
            db.session.rollback()
            refused += 1
    return refused
