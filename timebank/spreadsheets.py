"""Cells for CSV files that people open in a spreadsheet.

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return) as a formula, so
a memo like "=HYPERLINK(…)" could attack whoever opens the file. Such text gets a leading
apostrophe (OWASP "CSV injection"); numbers stay numbers."""

import json
from datetime import datetime

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value as a spreadsheet may safely read it."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(safe_cell(v)) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, default=str, ensure_ascii=False)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
