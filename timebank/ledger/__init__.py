"""The ledger: double-entry hour credits that can never be lost, invented or double-spent."""
