"""WSGI entry point that gunicorn serves (`frauddemo.wsgi`)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frauddemo.settings")

application = get_wsgi_application()
