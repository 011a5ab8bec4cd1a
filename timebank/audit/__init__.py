"""The audit log: who did what, for whom, and why. Nothing in it is ever changed."""
