"""`flask --app timebank communities …`"""

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from flask_babel import force_locale

from timebank.communities.links import LinkError, end_link, link_between, set_link
from timebank.communities.models import Community
from timebank.communities.services import CommunityError, create_community
from timebank.extensions import db

communities_cli = AppGroup("communities", help="Create communities (neighbourhoods) and link them.")


@communities_cli.command("create")
@click.option("--slug", required=True, help="Short name used in addresses, e.g. 'noord'.")
@click.option("--name", required=True, help="The name people see, e.g. 'Amsterdam-Noord'.")
@click.option("--open-joining", is_flag=True, help="Let people join without a coordinator's approval.")
def create(slug: str, name: str, open_joining: bool) -> None:
    """Create a community with the default categories."""
    try:
        community = create_community(slug, name, "open" if open_joining else "approval")
    except CommunityError as exc:
        with force_locale("en"):
            raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created community {community.slug!r} ({community.name}).")


def _community(slug: str) -> Community:
    community = db.session.scalar(sa.select(Community).where(Community.slug == slug.strip().lower()))
    if community is None:
        raise click.ClickException(f"There is no community {slug!r}.")
    return community


@communities_cli.command("link")
@click.argument("slug_a")
@click.argument("slug_b")
@click.option(
    "--cap", "cap", type=int, required=True, help="The most minutes either community may owe the other on balance."
)
@click.option("--no-posts", is_flag=True, help="Members do not see the other community's posts.")
@click.option("--reason", default="", help="Why, for both communities' audit logs.")
def link(slug_a: str, slug_b: str, cap: int, no_posts: bool, reason: str) -> None:
    """Link two communities (or change an existing link's cap): members may trade across it at once."""
    first, second = _community(slug_a), _community(slug_b)
    try:
        made = set_link(first, second, cap_minutes=cap, see_posts=not no_posts, reason=reason)
    except LinkError as exc:
        db.session.rollback()
        with force_locale("en"):
            raise click.ClickException(str(exc)) from None
    db.session.commit()
    posts = "see each other's posts" if made.see_posts else "do not see each other's posts"
    click.echo(f"Linked {first.slug!r} and {second.slug!r}: a cap of {made.cap_minutes} minutes; members {posts}.")


@communities_cli.command("unlink")
@click.argument("slug_a")
@click.argument("slug_b")
@click.option("--reason", required=True, help="Why, for both communities' audit logs.")
def unlink(slug_a: str, slug_b: str, reason: str) -> None:
    """End the link between two communities: no new exchanges; those agreed before still settle."""
    first, second = _community(slug_a), _community(slug_b)
    found = link_between(first.id, second.id)
    if found is None:
        raise click.ClickException(f"{first.slug!r} and {second.slug!r} are not linked.")
    try:
        end_link(found, actor=None, reason=reason)
    except LinkError as exc:
        db.session.rollback()
        with force_locale("en"):
            raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Ended the link between {first.slug!r} and {second.slug!r}.")
