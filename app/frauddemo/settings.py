"""Settings of the fraud demo web app, read from the environment (see frauddemo/env.py).

ORACLE_HOST set: Oracle, and DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS are required.
ORACLE_HOST unset: local mode on SQLite (SQLITE_PATH), with a random per-process secret key.
"""
import os
from pathlib import Path

from frauddemo import env

BASE_DIR = Path(__file__).resolve().parent.parent

LOCAL_MODE = env.is_local_mode(os.environ)

SECRET_KEY = env.secret_key(os.environ, LOCAL_MODE)
DEBUG = env.boolean(os.environ, "DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.allowed_hosts(os.environ, LOCAL_MODE)
CSRF_TRUSTED_ORIGINS = env.csrf_trusted_origins(os.environ)

DATABASES = {"default": env.database(os.environ, BASE_DIR)}

# How often the page writes one normal transaction while streaming is on.
STREAM_INTERVAL_MS = env.integer(os.environ, "STREAM_INTERVAL_MS", default=1000, minimum=100, maximum=60_000)
# A process re-reads the customers it picks from at most this many seconds after its last read, so a new
# customer gets transactions within this bound (transactions/services.py: CustomerPool).
CUSTOMER_REFRESH_SECONDS = env.integer(os.environ, "CUSTOMER_REFRESH_SECONDS", default=10, minimum=1, maximum=3600)

# The API's bodies are under 100 bytes and the admin's forms a few KB; a larger body gets a JSON 413 on
# API paths (transactions/api_errors.py) before it is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "transactions.apps.TransactionsConfig",
]

MIDDLEWARE = [
    "frauddemo.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "frauddemo.urls"
WSGI_APPLICATION = "frauddemo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The page reads the token from the DOM, so the cookie needs no script access.
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "transactions.api_errors.csrf_failure"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Hashed, compressed files collected at image build time; tests swap in plain storage.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"}},
    "root": {"handlers": ["stdout"], "level": "INFO"},
    "loggers": {"django": {"handlers": ["stdout"], "level": "INFO", "propagate": False}},
}
