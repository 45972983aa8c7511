"""The deploy-time model: the critical path through the program's real dependency graph.

A resource starts when everything it depends on has completed, and takes its typical create time.
A component resource takes no time of its own: it completes when its children have completed (and
not before its own dependencies). Following, from the resource that completes last, the predecessor
that made each one wait gives the critical path; its total is the modeled deploy time.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Node:
    key: str
    name: str
    type: str
    custom: bool
    parent: str = ""
    deps: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Step:
    key: str
    name: str
    type: str
    start: float
    minutes: float


@dataclass(frozen=True)
class CriticalPath:
    steps: tuple[Step, ...]
    total: float


@dataclass(frozen=True)
class Schedule:
    """When each node starts and completes, and which of its waits ended last (None: it waited for nothing)."""

    nodes: dict[str, Node]
    start: dict[str, float]
    finish: dict[str, float]
    cause: dict[str, str | None]


def schedule(nodes: Iterable[Node], minutes: Callable[[Node], float]) -> Schedule:
    """Every node's start and completion given each custom resource's create time."""
    by_key = {node.key: node for node in nodes}
    children: dict[str, list[str]] = {key: [] for key in by_key}
    for node in by_key.values():
        if node.parent in children:
            children[node.parent].append(node.key)

    def ancestors(key: str) -> set[str]:
        found, parent = set(), by_key[key].parent
        while parent in by_key and parent not in found:
            found.add(parent)
            parent = by_key[parent].parent
        return found

    finish: dict[str, float] = {}
    start: dict[str, float] = {}
    cause: dict[str, str | None] = {}  # the node whose completion this one waited for last
    visiting: set[str] = set()

    def done(key: str) -> float:
        if key not in by_key:
            return 0.0  # outside the program (e.g. a default provider): ready from the start
        if key in finish:
            return finish[key]
        if key in visiting:
            raise ValueError(f"dependency cycle through {by_key[key].name}")
        visiting.add(key)
        node = by_key[key]
        # A resource never waits for its own ancestors (they complete through it).
        waits = [dep for dep in node.deps if dep not in ancestors(key) and dep != key]
        ready, last = 0.0, None
        for dep in sorted(waits):
            if last is None or done(dep) > ready:
                ready, last = max(ready, done(dep)), dep
        start[key] = ready
        if node.custom:
            finish[key], cause[key] = ready + minutes(node), last
        else:
            end, why = ready, last
            for child in sorted(children[key]):
                if why is None or done(child) > end:
                    end, why = max(end, done(child)), child
            finish[key], cause[key] = end, why
        visiting.discard(key)
        return finish[key]

    for key in by_key:
        done(key)
    return Schedule(by_key, start, finish, cause)


def critical_path(nodes: Iterable[Node], minutes: Callable[[Node], float]) -> CriticalPath:
    """The longest chain of waits through ``nodes`` given each custom resource's create time."""
    timed = schedule(nodes, minutes)
    by_key, start, finish, cause = timed.nodes, timed.start, timed.finish, timed.cause
    customs = [node for node in by_key.values() if node.custom]
    if not customs:
        return CriticalPath((), 0.0)
    waited_on = {dep for node in by_key.values() for dep in node.deps}
    # The last to complete; on a tie prefer a sink (nothing waits for it), then a stable name order.
    end = max(customs, key=lambda n: (finish[n.key], n.key not in waited_on, n.name))

    steps: list[Step] = []
    key: str | None = end.key
    while key is not None and key in by_key:
        node = by_key[key]
        if node.custom:
            steps.append(Step(node.key, node.name, node.type, start[key], finish[key] - start[key]))
        key = cause.get(key)
    steps.reverse()
    return CriticalPath(tuple(steps), finish[end.key])
