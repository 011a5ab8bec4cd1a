"""Static files: addresses carry the content's hash, so browsers keep them for a year and ask
again only when the file changed; without the hash they revalidate and get a 304."""

import hashlib
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"


def test_pages_link_static_files_by_content_hash_and_browsers_keep_them(client):
    page = client.get("/login").text
    link = re.search(r'href="(/static/css/app\.css\?v=([0-9a-f]+))"', page)
    assert link, page[:1000]
    assert link.group(2) == hashlib.sha256((STATIC / "css/app.css").read_bytes()).hexdigest()[:12]
    response = client.get(link.group(1))
    assert response.status_code == 200
    assert response.cache_control.max_age == 365 * 24 * 3600 and response.cache_control.public
    etag = response.headers["ETag"]
    again = client.get(link.group(1), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_static_files_without_the_right_hash_are_revalidated(client):
    for path in ("/static/js/app.js", "/static/js/app.js?v=000000000000"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.cache_control.no_cache and not response.cache_control.max_age
        assert client.get(path, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_a_path_outside_the_static_folder_is_not_found(client):
    assert client.get("/static/../timebank/config.py?v=x").status_code == 404
    assert client.get("/static/%2e%2e/pyproject.toml").status_code == 404
