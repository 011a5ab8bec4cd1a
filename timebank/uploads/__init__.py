"""Photos that members upload: checked, stripped of metadata, resized, kept outside the database."""
