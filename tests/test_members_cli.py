"""`flask members create` and `flask communities create`, as operators and scripts use them."""

import sqlalchemy as sa

from timebank.extensions import db
from timebank.members.models import Member


def test_operator_creates_a_coordinator_who_can_log_in_at_once(app, runner, client, make_community):
    make_community("noord", "Noord")
    result = runner.invoke(
        args=[
            "members",
            "create",
            "--email",
            "Karim@Example.org",
            "--name",
            "Karim",
            "--password",
            "a long enough password",
            "--role",
            "coordinator",
            "--community",
            "noord",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created coordinator Karim <karim@example.org> in 'noord'" in result.output
    with app.app_context():
        karim = db.session.scalar(sa.select(Member).where(Member.email == "karim@example.org"))
        assert (karim.role, karim.status, karim.community.slug) == ("coordinator", "active", "noord")
        assert karim.email_confirmed_at is not None
    response = client.post("/login", data={"email": "karim@example.org", "password": "a long enough password"})
    assert response.status_code == 302
    assert client.get("/coordinate").status_code == 200


def test_default_community_and_admin_flag(app, runner, community):
    result = runner.invoke(
        args=[
            "members",
            "create",
            "--email",
            "admin@example.org",
            "--name",
            "Admin",
            "--password",
            "a long enough password",
            "--admin",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        admin = db.session.scalar(sa.select(Member).where(Member.email == "admin@example.org"))
        assert admin.is_admin and admin.community_id == community.id and admin.role == "member"


def test_bad_input_is_refused_in_one_english_sentence(app, runner, community, member):
    cases = [
        (["--email", member.email, "--name", "X", "--password", "a long enough password"], "already an account"),
        (["--email", "new@example.org", "--name", "X", "--password", "short"], "at least 8 characters"),
        (
            ["--email", "new@example.org", "--name", "<b>X</b>", "--password", "a long enough password"],
            "cannot contain",
        ),
        (["--email", "nope", "--name", "X", "--password", "a long enough password"], "valid email address"),
        (
            [
                "--email",
                "new@example.org",
                "--name",
                "X",
                "--password",
                "a long enough password",
                "--community",
                "nowhere",
            ],
            "there is no community 'nowhere'",
        ),
        (
            ["--email", "new@example.org", "--name", "X", "--password", "a long enough password", "--role", "king"],
            "Invalid value for '--role'",
        ),
    ]
    for arguments, message in cases:
        result = runner.invoke(args=["members", "create", *arguments])
        assert result.exit_code != 0 and message in result.output, (arguments, result.output)
        assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 1


def test_communities_create_makes_an_approval_community(app, runner, client, community):
    result = runner.invoke(args=["communities", "create", "--slug", "Noord", "--name", "Amsterdam-Noord"])
    assert result.exit_code == 0, result.output
    assert "Amsterdam-Noord" in client.get("/join", headers={"Accept-Language": "en"}).text
    bad = runner.invoke(args=["communities", "create", "--slug", "x", "--name", "X"])
    assert bad.exit_code != 0 and "The short name must be 2 to 40" in bad.output
