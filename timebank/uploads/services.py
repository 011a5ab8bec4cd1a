"""Accepting an uploaded photo. Only real images get through, re-encoded so that no metadata
(such as the GPS position a phone writes into a photo) and no hidden payload survives."""

import secrets
import warnings
from io import BytesIO
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image as PILImage
from PIL import UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from timebank.db import end_read_transaction
from timebank.errors import DomainError
from timebank.extensions import db
from timebank.uploads.models import Image

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# A photo of more pixels is refused before it is decoded: a small file can hold a huge image (a
# "decompression bomb") that would take seconds and hundreds of MB to unpack. 16 Mpx is more than
# any phone photo needs; Pillow's own guard is set to the same number, as an error.
MAX_PIXELS = 16_000_000
PILImage.MAX_IMAGE_PIXELS = MAX_PIXELS


class ImageError(DomainError):
    """The upload is not a usable photo; the message says what to do."""


def upload_folder() -> Path:
    folder = Path(current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_image(upload: FileStorage, *, community_id: int, owner_id: int | None) -> Image:
    """Check, clean and store a photo; flushes the Image row. Raises ImageError on bad input."""
    end_read_transaction(db.session)  # decoding and re-encoding happen outside SQLite's write lock
    max_bytes = current_app.config["MAX_IMAGE_BYTES"]
    data = upload.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageError(
            _l("This photo is too large. Please choose one smaller than %(mb)d MB.", mb=max_bytes // (1024 * 1024))
        )
    edge = current_app.config["MAX_IMAGE_EDGE"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            picture = PILImage.open(BytesIO(data))  # reads the header only
            if picture.format not in ACCEPTED_FORMATS:
                raise UnidentifiedImageError(picture.format)
            if picture.width * picture.height > MAX_PIXELS:
                raise PILImage.DecompressionBombError(picture.size)
            with PILImage.open(BytesIO(data)) as probe:
                probe.verify()
            picture.draft("RGB", (edge, edge))  # a JPEG is decoded at the size it is shown
            picture.load()
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise ImageError(
            _l("This photo has too many pixels. Please choose a smaller picture (at most 16 megapixels).")
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageError(_l("This file is not a photo we can use. Please choose a JPEG or PNG picture.")) from None

    has_alpha = picture.mode in ("RGBA", "LA", "P")
    picture = picture.convert("RGBA" if has_alpha else "RGB")
    picture.thumbnail((edge, edge))
    extension, fmt, content_type = ("png", "PNG", "image/png") if has_alpha else ("jpg", "JPEG", "image/jpeg")
    filename = f"{secrets.token_hex(16)}.{extension}"
    picture.save(upload_folder() / filename, fmt, optimize=True, **({"quality": 85} if fmt == "JPEG" else {}))

    image = Image(
        community_id=community_id,
        owner_id=owner_id,
        filename=filename,
        content_type=content_type,
        width=picture.width,
        height=picture.height,
    )
    db.session.add(image)
    db.session.flush()
    return image


def delete_image(image: Image) -> None:
    """Remove a photo and its file, e.g. when a member replaces it or is erased."""
    (upload_folder() / image.filename).unlink(missing_ok=True)
    db.session.delete(image)
    db.session.flush()
