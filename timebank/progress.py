"""Progress of long command-line work, on standard error: whoever watches sees that the work moves,
while standard output (a report, a CSV piped on) stays clean. `--quiet` silences it for cron, whose
mail would otherwise carry every step."""

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

import click

Item = TypeVar("Item")

quiet_option = click.option("--quiet", "-q", is_flag=True, help="Say nothing about progress (for cron).")


class Progress:
    """Steps and running counts, each with the seconds since the work began."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            click.echo(f"… {message} ({time.monotonic() - self.started:.1f} s)", err=True)

    def counted(self, items: Iterable[Item], what: str, every: int) -> Iterator[Item]:
        """Pass the items on, saying after every `every` of them how many went by."""
        for number, item in enumerate(items, start=1):
            yield item
            if number % every == 0:
                self(f"{number:,} {what}")
