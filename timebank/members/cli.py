"""`flask --app timebank members create …`"""

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from flask_babel import force_locale

from timebank.communities.models import Community
from timebank.communities.services import default_community
from timebank.extensions import db
from timebank.members.services import MemberError, create_member
from timebank.members.sessions import forget_expired_sign_ins
from timebank.members.sign_in_log import KEEP_DAYS, prune_sign_ins
from timebank.members.tokens import forget_old_links

members_cli = AppGroup("members", help="Create members and coordinators; forget old sign-ins.")


@members_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True, help="The name neighbours see.")
@click.option("--password", required=True, help="At least 8 characters, not a common password.")
@click.option("--role", type=click.Choice(["member", "coordinator"]), default="member", show_default=True)
@click.option("--community", "slug", help="The community's slug; default: the default community.")
@click.option("--admin", is_flag=True, help="Also make them an instance administrator.")
def create(email: str, name: str, password: str, role: str, slug: str | None, admin: bool) -> None:
    """Create an active, approved member (or coordinator) who can log in at once."""
    community = (
        db.session.scalar(sa.select(Community).where(Community.slug == slug.strip().lower()))
        if slug
        else default_community()
    )
    if community is None:
        raise click.ClickException(f"there is no community {slug!r}; create it with: communities create")
    try:
        member = create_member(community, email=email, name=name, password=password, role=role, is_admin=admin)
    except MemberError as exc:
        with force_locale("en"):
            raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {member.role} {member.name} <{member.email}> in {community.slug!r}.")


@members_cli.command("prune-sign-ins")
def prune_sign_ins_command() -> None:
    """Forget sign-ins and failed sign-ins older than 90 days, logged-in browsers whose cookie has
    expired, and emailed links 90 days after they expired (run daily). The audit log is never pruned."""
    count = prune_sign_ins()
    browsers = forget_expired_sign_ins()
    links = forget_old_links(KEEP_DAYS)
    db.session.commit()
    click.echo(
        f"Forgot {count} sign-ins older than {KEEP_DAYS} days, {browsers} expired logins"
        f" and {links} emailed links that expired more than {KEEP_DAYS} days ago."
    )
