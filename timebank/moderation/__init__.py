"""Members report content, coordinators decide; members block one another."""
