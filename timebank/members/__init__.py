"""Members: the residents and coordinators of a community, and how they sign in."""
