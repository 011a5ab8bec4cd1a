"""marshmallow and webargs explain a refused field in English; the API answers in the caller's
language. Their messages are matched here (marshmallow 4, webargs 8) and said again in ours; a
message we do not know passes through unchanged."""

import re

from flask_babel import lazy_gettext as _l

FIXED = {
    "Missing data for required field.": _l("Please fill this in."),
    "Field may not be null.": _l("This may not be empty (null)."),
    "Invalid value.": _l("This value is not allowed."),
    "Not a valid integer.": _l("Please give a whole number."),
    "Not a valid string.": _l("Please give text."),
    "Not a valid boolean.": _l("Please give true or false."),
    "Not a valid list.": _l("Please give a list."),
    "Invalid input type.": _l("Please give an object."),
    "Unknown field.": _l("We do not know this field. Please check its name."),
    "Not a valid date.": _l("Please give a date in ISO 8601, e.g. 2026-05-01."),
}

PATTERNS = {
    r"Must be greater than or equal to (?P<min>\S+) and less than or equal to (?P<max>\S+)\.": _l(
        "Please give a number from %(min)s to %(max)s."
    ),
    r"Must be greater than or equal to (?P<min>\S+)\.": _l("Please give a number of at least %(min)s."),
    r"Must be less than or equal to (?P<max>\S+)\.": _l("Please give a number of at most %(max)s."),
    r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.": _l("Please use from %(min)s to %(max)s characters."),
    r"Longer than maximum length (?P<max>\d+)\.": _l("Please use at most %(max)s characters."),
    r"Shorter than minimum length (?P<min>\d+)\.": _l("Please use at least %(min)s characters."),
    r"Must be one of: (?P<choices>.*)\.": _l("Please choose one of: %(choices)s."),
}


def in_callers_language(messages):
    """The same structure (lists, dicts keyed by field or index), each message translated."""
    if isinstance(messages, dict):
        return {key: in_callers_language(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [in_callers_language(message) for message in messages]
    if not isinstance(messages, str):
        return messages
    if messages in FIXED:
        return str(FIXED[messages])
    for pattern, said in PATTERNS.items():
        if found := re.fullmatch(pattern, messages):
            return str(said) % found.groupdict()
    return messages
