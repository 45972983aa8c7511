"""Reading the app's configuration from environment variables.

Every function takes the environment as a mapping so tests can pass a plain dict, and every error
is an ImproperlyConfigured that names the variable and the expected form.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_INTEGER = re.compile(r"[0-9]+")

LOCAL_ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]


def is_local_mode(environ: Mapping[str, str]) -> bool:
    """Local mode (SQLite, relaxed secrets) unless ORACLE_HOST says where the real database is."""
    if "ORACLE_HOST" not in environ:
        return True
    if not environ["ORACLE_HOST"].strip():
        # An empty value is a broken deployment, not a request for SQLite.
        raise ImproperlyConfigured("ORACLE_HOST is set but empty: give the Oracle host name, or unset it for local mode")
    return False


def required(environ: Mapping[str, str], name: str, expected: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set ({expected})")
    return value


def boolean(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (also accepted: 1/0, yes/no, on/off), got {raw!r}")


def integer(environ: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip()
    if not _INTEGER.fullmatch(value) or not minimum <= int(value) <= maximum:
        raise ImproperlyConfigured(f"{name} must be a whole number from {minimum} to {maximum}, got {raw!r}")
    return int(value)


def comma_list(environ: Mapping[str, str], name: str) -> list[str]:
    return [item.strip() for item in environ.get(name, "").split(",") if item.strip()]


def secret_key(environ: Mapping[str, str], local: bool) -> str:
    """The deployment must provide the key; a local process gets a random one of its own."""
    if local and not environ.get("DJANGO_SECRET_KEY", "").strip():
        return get_random_secret_key()
    key = required(environ, "DJANGO_SECRET_KEY", "a long random string, e.g. from a Kubernetes Secret")
    if len(key) < 32:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 32 characters long")
    return key


def allowed_hosts(environ: Mapping[str, str], local: bool) -> list[str]:
    hosts = comma_list(environ, "DJANGO_ALLOWED_HOSTS")
    if hosts:
        return hosts
    if local:
        return list(LOCAL_ALLOWED_HOSTS)
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must be set (comma-separated host names, e.g. 'fraud.example.com,.elb.amazonaws.com')"
    )


def csrf_trusted_origins(environ: Mapping[str, str]) -> list[str]:
    origins = comma_list(environ, "DJANGO_CSRF_TRUSTED_ORIGINS")
    for origin in origins:
        if not origin.startswith(("http://", "https://")):
            raise ImproperlyConfigured(
                f"DJANGO_CSRF_TRUSTED_ORIGINS entries must start with http:// or https://, got {origin!r}"
            )
    return origins


def database(environ: Mapping[str, str], base_dir: Path) -> dict:
    """Oracle (python-oracledb thin mode, Easy Connect NAME) when ORACLE_HOST is set, else SQLite."""
    if is_local_mode(environ):
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": environ.get("SQLITE_PATH", "").strip() or str(base_dir / "db.sqlite3"),
            "OPTIONS": {
                # Take the write lock when a transaction starts, so concurrent writers wait instead of failing.
                "transaction_mode": "IMMEDIATE",
                # Write-ahead log: a commit syncs one file once instead of a rollback journal and the database,
                # and readers do not block the writer; FULL keeps every commit durable
                # (sqlite.org/wal.html, sqlite.org/pragma.html#pragma_synchronous, read 2026-12-01).
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL",
            },
            # A thread keeps its connection between requests instead of opening the file anew for each one.
            "CONN_MAX_AGE": 60,
        }
    host = environ["ORACLE_HOST"].strip()
    port = integer(environ, "ORACLE_PORT", 1521, 1, 65535)
    service = environ.get("ORACLE_SERVICE_NAME", "").strip() or "XEPDB1"
    return {
        "ENGINE": "django.db.backends.oracle",
        # HOST and PORT stay empty so Django hands NAME to python-oracledb as the DSN.
        "NAME": f"{host}:{port}/{service}",
        "USER": required(environ, "ORACLE_USER", "the app's schema user, e.g. SAMPLE"),
        "PASSWORD": required(environ, "ORACLE_PASSWORD", "the password of ORACLE_USER"),
        "HOST": "",
        "PORT": "",
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
