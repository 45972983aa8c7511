"""Gunicorn settings for the container (read-only root filesystem, writable /tmp)."""
import os

bind = "0.0.0.0:8000"


def _workers() -> int:
    raw = os.environ.get("GUNICORN_WORKERS", "2").strip()
    if not raw.isdecimal() or not 1 <= int(raw) <= 64:
        raise SystemExit(f"GUNICORN_WORKERS must be a whole number from 1 to 64, got {raw!r}")
    return int(raw)


workers = _workers()
# Heartbeat files on the /tmp emptyDir; the control socket (gunicorn >= 25.1) would need a writable $HOME.
worker_tmp_dir = "/tmp"
control_socket_disable = True
accesslog = "-"
errorlog = "-"
