"""Backups of the database and the uploaded photos: `flask --app timebank backup create|restore|list|prune`."""
