"""The environment contract of frauddemo.settings (helpers directly, and the real module in a subprocess)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from frauddemo import env

APP_DIR = Path(__file__).resolve().parents[2]
SECRET = "s" * 50
ORACLE = {"ORACLE_HOST": "db.internal", "ORACLE_USER": "SAMPLE", "ORACLE_PASSWORD": "pw-not-in-logs"}
PROD = {**ORACLE, "DJANGO_SECRET_KEY": SECRET, "DJANGO_ALLOWED_HOSTS": "fraud.example.com"}


def test_local_mode_without_oracle_host():
    assert env.is_local_mode({}) is True
    assert env.is_local_mode(ORACLE) is False


def test_empty_oracle_host_is_an_error_not_sqlite():
    with pytest.raises(ImproperlyConfigured, match="ORACLE_HOST"):
        env.is_local_mode({"ORACLE_HOST": " "})


def test_sqlite_path_default_and_override(tmp_path):
    config = env.database({}, tmp_path)
    assert config["ENGINE"] == "django.db.backends.sqlite3" and config["NAME"] == str(tmp_path / "db.sqlite3")
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert env.database({"SQLITE_PATH": "/data/x.db"}, tmp_path)["NAME"] == "/data/x.db"


@pytest.mark.django_db
def test_sqlite_connections_use_a_durable_write_ahead_log():
    """What SQLite itself reports on the app's connection: WAL journal, every commit synced (FULL = 2)."""
    from django.db import connection

    with connection.cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert cursor.execute("PRAGMA synchronous").fetchone() == (2,)


def test_oracle_defaults_to_xepdb1_on_1521_with_easy_connect_name(tmp_path):
    config = env.database(ORACLE, tmp_path)
    assert config["ENGINE"] == "django.db.backends.oracle"
    assert config["NAME"] == "db.internal:1521/XEPDB1"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == ("SAMPLE", "pw-not-in-logs", "", "")
    assert "OPTIONS" not in config  # python-oracledb rejects PostgreSQL-style options


def test_oracle_port_and_service(tmp_path):
    config = env.database({**ORACLE, "ORACLE_PORT": "1522", "ORACLE_SERVICE_NAME": "FREEPDB1"}, tmp_path)
    assert config["NAME"] == "db.internal:1522/FREEPDB1"


@pytest.mark.parametrize("port", ["abc", "0", "70000", "-1", "15 21"])
def test_bad_oracle_port_names_the_variable(tmp_path, port):
    with pytest.raises(ImproperlyConfigured, match="ORACLE_PORT must be a whole number from 1 to 65535"):
        env.database({**ORACLE, "ORACLE_PORT": port}, tmp_path)


@pytest.mark.parametrize("missing", ["ORACLE_USER", "ORACLE_PASSWORD"])
def test_oracle_credentials_required(tmp_path, missing):
    environ = {k: v for k, v in ORACLE.items() if k != missing}
    with pytest.raises(ImproperlyConfigured, match=f"{missing} must be set"):
        env.database(environ, tmp_path)


def test_secret_key_required_outside_local_mode():
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY must be set"):
        env.secret_key({}, local=False)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY must be at least 32"):
        env.secret_key({"DJANGO_SECRET_KEY": "short"}, local=False)
    assert env.secret_key({"DJANGO_SECRET_KEY": SECRET}, local=False) == SECRET


def test_local_secret_key_is_random_per_process_unless_given():
    first, second = env.secret_key({}, local=True), env.secret_key({}, local=True)
    assert first != second and len(first) >= 50
    assert env.secret_key({"DJANGO_SECRET_KEY": SECRET}, local=True) == SECRET


def test_allowed_hosts():
    with pytest.raises(ImproperlyConfigured, match="DJANGO_ALLOWED_HOSTS must be set"):
        env.allowed_hosts({}, local=False)
    assert env.allowed_hosts({"DJANGO_ALLOWED_HOSTS": " a.example.com, .b.example.com ,"}, local=False) == [
        "a.example.com", ".b.example.com"]
    assert env.allowed_hosts({}, local=True) == ["localhost", "127.0.0.1", "[::1]"]


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("False", False), ("1", True), ("0", False), (" yes ", True)])
def test_debug_parsing(raw, expected):
    assert env.boolean({"DJANGO_DEBUG": raw}, "DJANGO_DEBUG", default=False) is expected


@pytest.mark.parametrize("raw", ["", "maybe", "tru", "2"])
def test_bad_debug_value_names_the_variable(raw):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG must be true or false"):
        env.boolean({"DJANGO_DEBUG": raw}, "DJANGO_DEBUG", default=False)


def test_csrf_trusted_origins():
    assert env.csrf_trusted_origins({}) == []
    assert env.csrf_trusted_origins({"DJANGO_CSRF_TRUSTED_ORIGINS": "https://a.example.com,http://b"}) == [
        "https://a.example.com", "http://b"]
    with pytest.raises(ImproperlyConfigured, match="DJANGO_CSRF_TRUSTED_ORIGINS entries must start with"):
        env.csrf_trusted_origins({"DJANGO_CSRF_TRUSTED_ORIGINS": "a.example.com"})


# The real settings module, imported in a clean process with exactly the given environment.
_PRINT_SETTINGS = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({"engine": db["ENGINE"], "name": db["NAME"], "debug": settings.DEBUG,
                  "hosts": settings.ALLOWED_HOSTS, "local": settings.LOCAL_MODE,
                  "interval": settings.STREAM_INTERVAL_MS, "secret_len": len(settings.SECRET_KEY),
                  "customer_refresh": settings.CUSTOMER_REFRESH_SECONDS}))
"""


def _settings_process(environ: dict) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ["PATH"], "PYTHONPATH": str(APP_DIR), "DJANGO_SETTINGS_MODULE": "frauddemo.settings"}
    return subprocess.run([sys.executable, "-c", _PRINT_SETTINGS], env={**clean, **environ},
                          capture_output=True, text=True, timeout=60)


def test_settings_with_no_environment_is_local_sqlite():
    result = _settings_process({})
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["local"] is True and values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(APP_DIR / "db.sqlite3")
    assert values["debug"] is False and values["interval"] == 1000 and values["secret_len"] >= 50
    assert values["customer_refresh"] == 10


def test_settings_in_oracle_mode():
    result = _settings_process({**PROD, "STREAM_INTERVAL_MS": "250", "DJANGO_DEBUG": "false",
                                "CUSTOMER_REFRESH_SECONDS": "30"})
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.oracle" and values["name"] == "db.internal:1521/XEPDB1"
    assert values["hosts"] == ["fraud.example.com"] and values["interval"] == 250 and values["local"] is False
    assert values["customer_refresh"] == 30


@pytest.mark.parametrize(("environ", "message"), [
    ({k: v for k, v in PROD.items() if k != "DJANGO_SECRET_KEY"}, "DJANGO_SECRET_KEY must be set"),
    ({k: v for k, v in PROD.items() if k != "DJANGO_ALLOWED_HOSTS"}, "DJANGO_ALLOWED_HOSTS must be set"),
    ({**PROD, "DJANGO_DEBUG": "yes please"}, "DJANGO_DEBUG must be true or false"),
    ({"STREAM_INTERVAL_MS": "10"}, "STREAM_INTERVAL_MS must be a whole number from 100 to 60000"),
    ({"STREAM_INTERVAL_MS": "fast"}, "STREAM_INTERVAL_MS must be a whole number"),
    ({"CUSTOMER_REFRESH_SECONDS": "0"}, "CUSTOMER_REFRESH_SECONDS must be a whole number from 1 to 3600"),
])
def test_settings_refuse_bad_environment_with_a_clear_message(environ, message):
    result = _settings_process(environ)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
    assert "pw-not-in-logs" not in result.stderr
