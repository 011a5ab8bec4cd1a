"""The web twin of the API's `writes`: run a service for a page, commit once, or undo it and show
the refusal on the form."""
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import flash

from timebank.errors import DomainError
from timebank.extensions import db


@dataclass(frozen=True)
class Outcome:
    """What `submit` did: truthy when the service went through and was committed."""

    ok: bool
    value: Any = None

    def __bool__(self) -> bool:
        return self.ok


def submit(call: Callable[[], Any], form=None, *, fields: Mapping[str, str] | None = None,
           passthrough: tuple[type[Exception], ...] = ()) -> Outcome:
    """Run `call` (services that flush) and commit. When a service refuses (a DomainError), roll
    back and show the refusal next to the form field it names (`fields` maps a service's field name
    to the form's), or as a message at the top of the page. Refusals listed in `passthrough` are
    rolled back and raised for the caller to explain in its own way."""
    try:
        value = call()
    except DomainError as refusal:
        db.session.rollback()
        if isinstance(refusal, passthrough):
            raise
        show_refusal(refusal, form, fields)
        return Outcome(False)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return Outcome(True, value)


def show_refusal(refusal: DomainError, form=None, fields: Mapping[str, str] | None = None) -> None:
    """Put the refusal next to the field it is about, else at the top of the page."""
    name = (fields or {}).get(refusal.field, refusal.field) if refusal.field else None
    target = getattr(form, name, None) if form is not None and name else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, str(refusal)]
    else:
        flash(str(refusal), refusal.category)
