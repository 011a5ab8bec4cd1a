"""The marketplace: offers ("I can …") and requests ("I need …") that neighbours find in seconds."""
