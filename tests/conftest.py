import functools

import pytest

from mockcloud.program import Program, run_program


@functools.lru_cache(maxsize=None)
def _program(stack: str) -> Program:
    return run_program(stack)


@pytest.fixture(scope="session")
def dev() -> Program:
    """The dev stack as the program declares it (evaluated once per test session)."""
    return _program("dev")


@pytest.fixture(scope="session")
def ha() -> Program:
    """The highly available example stack."""
    return _program("ha")
