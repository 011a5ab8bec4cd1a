"""The web twin of the API's `writes`: run a service for a page, commit once, or undo it and show
the refusal on the form."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import flash

from timebank.errors import DomainError
from timebank.extensions import db

# Where a refusal goes on a form: by the service's field name, or by the refusal's class (for
# refusals that name no field, such as a balance limit that belongs next to the hours box).
Fields = Mapping[str | type[DomainError], str]


@dataclass(frozen=True)
class Outcome:
    """What `submit` did: truthy when the service went through and was committed."""

    ok: bool
    value: Any = None

    def __bool__(self) -> bool:
        return self.ok


def submit(
    call: Callable[[], Any], form=None, *, fields: Fields | None = None, passthrough: tuple[type[Exception], ...] = ()
) -> Outcome:
    """Run `call` (services that flush) and commit. When a service refuses (a DomainError), roll
    back and show the refusal next to the form field it names (`fields` maps a service's field name
    or a refusal's class to the form's field), or as a message at the top of the page. Refusals
    listed in `passthrough` are rolled back and raised for the caller to explain in its own way;
    anything else that goes wrong is rolled back and raised."""
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


def show_refusal(refusal: DomainError, form=None, fields: Fields | None = None) -> None:
    """Put the refusal next to the field it is about, else at the top of the page; a refusal that
    carries several (`refusals`) shows each of them."""
    for each in getattr(refusal, "refusals", None) or ():
        show_refusal(each, form, fields)
    if getattr(refusal, "refusals", None):
        return
    target = _field_for(refusal, form, fields or {})
    if target is not None:
        target.errors = [*target.errors, str(refusal)]
    else:
        flash(str(refusal), refusal.category)


def _field_for(refusal: DomainError, form, fields: Fields):
    if form is None:
        return None
    names = [fields.get(refusal.field, refusal.field)] if refusal.field else []
    names += [name for kind, name in fields.items() if isinstance(kind, type) and isinstance(refusal, kind)]
    for name in names:
        target = getattr(form, name, None)
        if target is not None and hasattr(target, "errors"):
            return target
    return None
