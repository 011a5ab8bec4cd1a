"""Circulation statistics: roll-ups kept with every ledger write, the indicators, their pages and reports."""
