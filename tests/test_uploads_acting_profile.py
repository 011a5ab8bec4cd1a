"""Photos, acting for assisted members, and the public profile."""

import io

import pytest
from flask import session
from flask_babel import force_locale
from flask_login import login_user
from PIL import Image as PILImage
from werkzeug.datastructures import FileStorage

from timebank.extensions import db
from timebank.members.acting import acting_member, on_behalf_of, start_acting_for
from timebank.uploads.models import Image
from timebank.uploads.services import ImageError, save_image, upload_folder

from .conftest import count, login


def photo_bytes(fmt="JPEG", size=(2400, 1200), exif=True) -> bytes:
    picture = PILImage.new("RGB", size, (200, 80, 40))
    buffer = io.BytesIO()
    extra = {}
    if exif and fmt == "JPEG":
        info = PILImage.Exif()
        info[0x8825] = {2: (52.0, 22.0, 0.0)}  # GPS latitude: where the photo was taken
        extra["exif"] = info.tobytes()
    picture.save(buffer, fmt, **extra)
    return buffer.getvalue()


def upload(data: bytes, name="photo.jpg") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def test_photo_is_resized_and_stripped_of_location(app, ctx, member):
    image = save_image(upload(photo_bytes()), community_id=member.community_id, owner_id=member.id)
    db.session.commit()
    stored = PILImage.open(upload_folder() / image.filename)
    assert max(stored.size) == app.config["MAX_IMAGE_EDGE"] and (image.width, image.height) == stored.size
    assert not stored.getexif()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"<script>alert(1)</script>", "not a photo"),
        (b"GIF89a" + b"\0" * 50, "not a photo"),
        (b"\xff\xd8\xff" + b"x" * (6 * 1024 * 1024), "too large"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(ctx, member, data, message):
    with pytest.raises(ImageError) as refused, force_locale("en"):
        save_image(upload(data), community_id=member.community_id, owner_id=member.id)
    with force_locale("en"):
        assert message in str(refused.value)
    assert count(Image) == 0


def test_photos_are_shown_only_inside_their_community(app, client, make_member, make_community):
    owner = make_member("Ayşe")
    neighbour = make_member("Jan")
    stranger = make_member("Olena", community_id=make_community("noord", "Noord").id)
    with app.app_context():
        image_id = save_image(
            upload(photo_bytes("PNG", (50, 50))), community_id=owner.community_id, owner_id=owner.id
        ).id
        db.session.commit()
    assert client.get(f"/images/{image_id}").status_code == 302  # to the login page
    login(client, neighbour)
    response = client.get(f"/images/{image_id}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    client.post("/logout")
    login(client, stranger)
    assert client.get(f"/images/{image_id}").status_code == 404


def test_coordinator_acts_only_for_members_of_their_community(app, make_member, make_community):
    coordinator = make_member("Karim", role="coordinator")
    assisted = make_member("Wilma", assisted=True, email=None)
    stranger = make_member("Olena", community_id=make_community("noord", "Noord").id)
    with app.test_request_context():
        login_user(coordinator)
        assert acting_member().id == coordinator.id and on_behalf_of() is None
        start_acting_for(assisted)
        assert acting_member().id == assisted.id and on_behalf_of().id == assisted.id
        start_acting_for(stranger)
        assert acting_member().id == coordinator.id and "acting_for" not in session


def test_member_cannot_act_for_a_neighbour(app, make_member):
    member = make_member("Jan")
    neighbour = make_member("Fatima")
    with app.test_request_context():
        login_user(member)
        start_acting_for(neighbour)
        assert acting_member().id == member.id


def test_profile_is_for_neighbours_only(client, make_member, make_community):
    member = make_member("Priya", bio="I can sew curtains.")
    neighbour = make_member("Jan")
    stranger = make_member("Olena", community_id=make_community("noord", "Noord").id)
    login(client, neighbour)
    page = client.get(f"/members/{member.id}")
    assert page.status_code == 200 and "I can sew curtains." in page.text
    client.post("/logout")
    login(client, stranger)
    assert client.get(f"/members/{member.id}").status_code == 404
