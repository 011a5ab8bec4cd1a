"""Configuration: defaults in a class, then the environment (DATABASE_URL, SECRET_KEY, TIMEBANK_*)."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from timebank.errors import StartupError


class Config:
    ENV = "development"
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = None  # filled in from DATABASE_URL or instance/timebank.db
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    LANGUAGES = ["nl", "en"]
    BABEL_DEFAULT_LOCALE = "nl"
    BABEL_DEFAULT_TIMEZONE = "Europe/Amsterdam"
    # How the community writes dates in every language (a country code): "NL" gives English readers
    # "4 Dec 2026, 15:20"; "GB" the same; "US" would give "Dec 4, 2026, 3:20 PM".
    LOCALE_REGION = "NL"
    DEFAULT_COMMUNITY_SLUG = "buurt"
    DEFAULT_COMMUNITY_NAME = "Onze buurt"
    RATELIMIT_STORAGE_URI = "memory://"
    # Explicit, because Flask-Limiter otherwise inherits "enabled" from the last app it was given.
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 3600 * 8
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    UPLOAD_FOLDER = None  # default: instance/uploads
    MAX_IMAGE_BYTES = 5 * 1024 * 1024
    MAX_IMAGE_EDGE = 1600
    API_TITLE = "Time bank API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_TOKEN_LIFETIME = timedelta(days=90)
    API_CORS_ORIGINS: list[str] = []  # e.g. TIMEBANK_API_CORS_ORIGINS='["https://app.example.org"]'
    API_RATELIMIT = "300 per minute"
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
    PASSWORD_HASH_PARAMS = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}
    TRUSTED_PROXIES = 0  # reverse proxies in front of the app whose X-Forwarded-* headers are believed
    # members
    LOGIN_FAILURE_LIMIT = "10 per 15 minutes"  # per account and per address
    EMAIL_LINK_LIMIT = "5 per 15 minutes"  # emails asked for (join, reset, confirmation), per address and per email
    JOIN_LIMIT = "30 per hour"  # sign-ups per address: a whole neighbourhood meeting may share one wifi
    CONFIRM_LINK_HOURS = 72
    RESET_LINK_MINUTES = 60
    EMAIL_CHANGE_LINK_HOURS = 24
    UNDO_EMAIL_CHANGE_LINK_DAYS = 7
    # The languages members can say they speak (codes Babel knows, shown in the reader's language).
    SPOKEN_LANGUAGES = [
        "nl",
        "en",
        "ar",
        "tr",
        "zgh",
        "pl",
        "uk",
        "ru",
        "ti",
        "so",
        "am",
        "fa",
        "ku",
        "pap",
        "fr",
        "de",
        "es",
        "pt",
        "ro",
        "bg",
        "hi",
        "zh",
    ]
    # mail: with no MAIL_SERVER, `flask mail send` prints messages to the console (development).
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_USE_TLS = False  # TLS from the first byte (usually port 465)
    MAIL_USE_STARTTLS = False  # upgrade a plain connection (usually port 587)
    MAIL_FROM = "Tijdbank <noreply@localhost>"
    MAIL_TIMEOUT = 20  # seconds to wait for the SMTP server
    MAIL_BATCH_SIZE = 50
    # Development only (`make run` sets it): /dev/outbox shows all email in the browser, and each
    # email is printed with its links to the console as it is queued. Never in production.
    DEV_OUTBOX = False
    # backups (`flask backup …`): where they are kept, and how many `backup prune` keeps
    BACKUP_DIR = None  # default: instance/backups
    BACKUP_KEEP_DAILY = 7  # the newest backup of each of the last 7 days that have one
    BACKUP_KEEP_WEEKLY = 8  # and of each of the last 8 weeks


class ProductionConfig(Config):
    ENV = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


def load_config(app, overrides: dict | None) -> None:
    """Fill app.config: class defaults, then environment, then explicit overrides (tests)."""
    env = (overrides or {}).get("ENV") or os.environ.get("TIMEBANK_ENV", "development")
    app.config.from_object(ProductionConfig if env == "production" else Config)
    app.config.from_prefixed_env("TIMEBANK")
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if overrides:
        app.config.update(overrides)
    if app.config["ENV"] == "production":
        app.config["DEV_OUTBOX"] = False

    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'timebank.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])

    if not app.config["SECRET_KEY"]:
        if app.config["ENV"] == "production":
            raise StartupError(
                "SECRET_KEY is not set: in production, set the SECRET_KEY environment variable to a "
                "long random value, e.g. the output of: python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        app.config["SECRET_KEY"] = _development_secret_key(Path(app.instance_path))


def normalise_database_url(url: str) -> str:
    """Accept the common spellings of a PostgreSQL URL and use psycopg 3 for all of them."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StartupError(
            f"DATABASE_URL is not a database address ({url!r}); use e.g. "
            "postgresql+psycopg://user:password@host:5432/dbname or sqlite:////path/to/timebank.db"
        ) from None
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("postgresql+psycopg", "sqlite", "sqlite+pysqlite"):
        raise StartupError(
            f"DATABASE_URL uses {parsed.drivername!r}, which the time bank does not support; "
            "use postgresql+psycopg://… or sqlite:///…"
        )
    return parsed.render_as_string(hide_password=False)


def _development_secret_key(instance: Path) -> str:
    """A random key generated once and kept in instance/, so development logins survive restarts."""
    instance.mkdir(parents=True, exist_ok=True)
    key_file = instance / "secret_key"
    if not key_file.exists():
        # Several workers start at once: each writes its own candidate, and the first to link
        # it into place wins, so nobody ever reads a half-written (or empty) key.
        candidate = instance / f"secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as stream:
            stream.write(secrets.token_hex(32))
        try:
            os.link(candidate, key_file)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return key_file.read_text().strip()
