import io

import pytest
from django.core.management import call_command

PLAIN_STATIC_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """A file-backed test database: the live server's request threads then each get their own connection
    (with SQLite's busy wait) instead of sharing one in-memory connection, whose table locks fail at once."""
    from django.db import connections

    connections["default"].settings_dict["TEST"]["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    """Static files straight from the app (the manifest storage is tested on its own) and fast hashing."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STATIC_ROOT.mkdir()
    settings.STORAGES = PLAIN_STATIC_STORAGES
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db, monkeypatch):
    """Twenty demo customers and the sample transactions, no admin."""
    monkeypatch.delenv("DJANGO_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("SEED_USERS", raising=False)
    call_command("seed", users=20, stdout=io.StringIO())


@pytest.fixture(autouse=True)
def _fresh_customer_pool():
    """Each test's database starts anew, so the process's customer pool must too."""
    from transactions.views import customer_pool

    customer_pool.forget()
    yield
    customer_pool.forget()
