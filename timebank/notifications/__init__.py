"""Notifications: an in-app list of what happened to a member, and the emails about it."""
