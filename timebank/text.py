"""Free text as the services take it: trimmed, one kind of line break, refused when too long or,
where words are needed, empty."""

from flask_babel import lazy_gettext as _l

from timebank.errors import DomainError


def clean_text(
    text: str | None, limit: int, field: str, *, required: bool = False, refusal: type[DomainError] = DomainError
) -> str:
    """The text to store; a `refusal` naming `field` when it is empty but `required`, or too long."""
    text = (text or "").strip().replace("\r\n", "\n")
    if required and not text:
        raise refusal(_l("Please write a few words."), field)
    if len(text) > limit:
        raise refusal(_l("Please keep this under %(max)d characters; it has %(num)d.", max=limit, num=len(text)), field)
    return text
