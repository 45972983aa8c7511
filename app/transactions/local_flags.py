"""What local Flink flagged, for the demo page's panel (`make demo` only).

With LOCAL_FLINK_RESULTS=<dir> set, Flink's local sinks write JSON lines under
``<dir>/flagged_users/`` and ``<dir>/flagged_transactions/`` (files become visible, i.e. lose their
leading dot, once Flink commits them). ``GET /api/local/flags`` returns the newest of both; unset, the
endpoint answers 404 and the page shows no panel.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from django.http import HttpRequest, JsonResponse

RESULTS_ENV = "LOCAL_FLINK_RESULTS"
KINDS = ("flagged_users", "flagged_transactions")
MAX_ROWS = 100


def results_dir(environ=os.environ) -> Path | None:
    raw = environ.get(RESULTS_ENV, "").strip()
    return Path(raw) if raw else None


def read_rows(directory: Path) -> list[dict]:
    """Every JSON line of the committed (visible) files, oldest file first; unreadable lines are skipped."""
    if not directory.is_dir():
        return []
    files = sorted((p for p in directory.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))),
                   key=lambda p: (p.stat().st_mtime_ns, p.name))
    rows = []
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            try:
                value = json.loads(line)
            except ValueError:
                continue  # a line still being written by a non-atomic writer
            if isinstance(value, dict):
                rows.append(value)
    return rows


def flags(request: HttpRequest) -> JsonResponse:
    directory = results_dir()
    if directory is None:
        return JsonResponse({"error": f"local demo mode is off ({RESULTS_ENV} is not set)"}, status=404)
    if request.method != "GET":
        response = JsonResponse({"error": f"method {request.method} not allowed; use GET"}, status=405)
        response["Allow"] = "GET"
        return response
    return JsonResponse({kind: read_rows(directory / kind)[-MAX_ROWS:] for kind in KINDS})
