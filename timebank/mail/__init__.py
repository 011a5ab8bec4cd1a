"""Email: messages wait in an outbox table, written in the same transaction as their cause."""
