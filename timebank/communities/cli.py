"""`flask --app timebank communities …`"""
import click
from flask.cli import AppGroup
from flask_babel import force_locale

from timebank.communities.services import CommunityError, create_community
from timebank.extensions import db

communities_cli = AppGroup("communities", help="Create and list communities (neighbourhoods).")


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
