"""Communities: the neighbourhoods one installation hosts, each with its own areas and categories."""
