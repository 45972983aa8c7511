"""Bounded waits with a clear message: every check of the running stack polls through ``wait_until``."""
from __future__ import annotations

import time
from collections.abc import Callable


class CheckFailed(Exception):
    """A check of the deployed stack failed; the message says what was expected and what was seen."""


Probe = Callable[[], "tuple[bool, str]"]


def wait_until(
    probe: Probe,
    what: str,
    timeout: float,
    poll: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Call ``probe`` until it reports done and return its detail; when ``timeout`` seconds have passed, raise
    CheckFailed naming ``what``, the limit and the last detail. A probe raises CheckFailed itself for an answer
    that waiting cannot change (a refused key, an unexpected flag)."""
    deadline = clock() + timeout
    while True:
        done, detail = probe()
        if done:
            return detail
        if clock() >= deadline:
            raise CheckFailed(f"{what}: not within {timeout:g} s; last seen: {detail}")
        sleep(min(poll, max(0.0, deadline - clock())))
