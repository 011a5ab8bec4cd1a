"""Pages that belong to no single domain: the front page, the language switch, the health check."""
