"""The demo page and its static files (plain storage, and the manifest storage the image uses)."""
import gzip
import re

import pytest
from django.core.management import call_command

from transactions import scenarios


@pytest.mark.django_db
def test_page_has_controls_interval_and_token(client, settings):
    settings.STREAM_INTERVAL_MS = 750
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="stream-toggle"' in html
    assert 'data-stream-interval-ms="750"' in html and "750 ms" in html
    assert re.search(r'data-csrf-token="[A-Za-z0-9]{32,}"', html)
    assert re.findall(r'data-fraud-type="(\w+)"', html) == list(scenarios.FRAUD_TYPES)
    assert 'data-url-stream="/api/transactions/stream"' in html and 'data-url-fraud="/api/fraud"' in html


@pytest.mark.django_db
def test_page_loads_only_its_own_static_files(client):
    html = client.get("/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources == [
        "/static/transactions/favicon.svg", "/static/transactions/app.css", "/static/transactions/app.js"]
    assert "://" not in html  # no CDN, no external host at all


def test_static_files_exist_and_use_the_api():
    from django.contrib.staticfiles import finders

    script = open(finders.find("transactions/app.js")).read()
    assert "X-CSRFToken" in script and "innerHTML" not in script  # rows are built with textContent
    assert finders.find("transactions/app.css")


@pytest.mark.django_db
def test_manifest_storage_as_in_the_image(client, settings, tmp_path):
    """collectstatic with the production storage, then the page links hashed files that whitenoise serves."""
    from django.conf import settings as live

    settings.STORAGES = {**live.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    settings.STATIC_ROOT = tmp_path / "collected"
    call_command("collectstatic", interactive=False, verbosity=0)
    assert (settings.STATIC_ROOT / "staticfiles.json").exists()

    html = client.get("/").content.decode()
    script_url = re.search(r'src="(/static/transactions/app\.[0-9a-f]{12}\.js)"', html).group(1)
    response = client.get(script_url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    body = gzip.decompress(b"".join(response.streaming_content))
    assert b"X-CSRFToken" in body
    assert "immutable" in response["Cache-Control"]
