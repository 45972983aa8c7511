import functools
import gc
import shutil

import botocore.loaders
import botocore.session
import pytest

from components import flink_pool
from mockcloud.program import Program, run_program


# One botocore data loader for every session the tests create. moto gives each test a new default session and the
# code under test makes its own, each of which would otherwise parse the same service models again (EC2's alone is
# megabytes of JSON; measured: 5-7 s of CPU over the modules that use boto3, run serially). A loader only reads
# botocore's data files, which nothing changes, and one session already shares its loader among all its clients.
botocore.session.create_loader = functools.lru_cache(maxsize=None)(botocore.loaders.create_loader)


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


@pytest.fixture
def sql_copy(tmp_path, monkeypatch):
    """A copy of flink/ that the program reads instead of the real one."""
    copy = tmp_path / "flink"
    shutil.copytree(flink_pool.FLINK_DIR, copy)
    monkeypatch.setattr(flink_pool, "FLINK_DIR", copy)
    return copy


# A full collection after every 100 collections of the middle generation instead of every 10 (the young ones keep
# Python's defaults): with the freeze below, full collections cost each xdist worker 2.5-4 s instead of 5-7.5 s, for
# up to 100 MB more at its peak (measured on this suite).
gc.set_threshold(700, 10, 100)


@pytest.hookimpl(trylast=True)  # after the module's fixtures are torn down
def pytest_runtest_teardown(item, nextitem):
    """After each test module: what is still alive then (libraries imported as the tests needed them, programs
    shared by later tests) is kept out of the garbage collector's full collections, which otherwise walk it again
    and again (measured: some 40 of them walked 700,000 objects for 16-18 s of each xdist worker's 70 s)."""
    if nextitem is None or nextitem.module is not item.module:
        gc.collect()
        gc.freeze()
