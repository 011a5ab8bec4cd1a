"""The entry point for gunicorn (`gunicorn wsgi:app`) and `make run`."""

from timebank import create_app
from timebank.startup import check_database

app = create_app(commands=False)
check_database(app)
