"""`flask --app timebank api forget-keys`: run daily, so stored API answers (which can hold
messages members wrote) are not kept longer than a retry needs them."""

import click
from flask.cli import AppGroup

from timebank.api.idempotency import forget_old_keys
from timebank.extensions import db

api_cli = AppGroup("api", help="Housekeeping for the JSON API.")


@api_cli.command("forget-keys")
def forget_keys_command() -> None:
    """Delete the answers stored under Idempotency-Keys more than a day ago."""
    count = forget_old_keys()
    db.session.commit()
    click.echo(f"Forgot {count} stored answers.")
