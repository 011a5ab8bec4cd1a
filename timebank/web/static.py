"""Static files with their content's hash in the address (`/static/css/app.css?v=1a2b3c4d5e6f`):
a browser may keep such a file for a year, because a changed file gets a new address. Without
the right `v` (an old page, a hand-typed address) the file is served for revalidation, and its
ETag lets the browser get a short 304 instead of the file again."""

import hashlib
import os

from flask import request
from werkzeug.security import safe_join

A_YEAR = 365 * 24 * 3600


def register_static_versions(app) -> None:
    hashes: dict[tuple, str] = {}

    def version(filename: str) -> str | None:
        """The file's content hash; computed again only when its modification time or size changes."""
        path = safe_join(app.static_folder, filename)
        try:
            stat = os.stat(path) if path else None
        except OSError:
            stat = None
        if stat is None or not os.path.isfile(path):
            return None
        key = (path, stat.st_mtime_ns, stat.st_size)
        if key not in hashes:
            with open(path, "rb") as file:
                hashes[key] = hashlib.sha256(file.read()).hexdigest()[:12]
        return hashes[key]

    @app.url_defaults
    def add_version(endpoint, values):
        if endpoint == "static" and "v" not in values:
            found = version(values.get("filename", ""))
            if found:
                values["v"] = found

    @app.after_request
    def cache_static(response):
        if request.endpoint == "static" and response.status_code in (200, 304):
            versioned = request.args.get("v") and request.args["v"] == version(request.view_args["filename"])
            if versioned:
                response.cache_control.public = True
                response.cache_control.max_age = A_YEAR
                response.cache_control.immutable = True
            else:
                response.cache_control.no_cache = True
        return response
