"""One finding per line: what was checked, what was found and, for a problem, what to run or set."""
from __future__ import annotations

from dataclasses import dataclass

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass(frozen=True)
class Finding:
    level: str  # OK, WARN (worth knowing, does not stop) or FAIL (stops `make up`/`make destroy`)
    check: str
    message: str

    @property
    def line(self) -> str:
        return f"{self.level:<4}  {self.check}: {self.message}"


def problems(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.level == FAIL]
