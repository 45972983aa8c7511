"""Time that only moves when the code under test sleeps, for waits whose deadline a test needs to pass: the deadline
is exact and passes at once, however loaded the machine is."""
from __future__ import annotations


class FakeClock:
    """Call it for the time; give its ``sleep`` to the code under test, which records each sleep and moves on."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
