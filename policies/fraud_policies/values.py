"""Readers of what the engine hands a rule: props arrive wrapped in read-only Mapping/Sequence proxies, so these
use ``collections.abc`` and never ``dict``/``list``; AWS booleans and numbers may arrive as strings."""
from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import ResourceValidationArgs, StackValidationArgs


def config_with_defaults(args: ResourceValidationArgs | StackValidationArgs,
                         defaults: Mapping[str, Any]) -> dict[str, Any]:
    """A policy's properties from the stack's policy config, over its defaults."""
    return {**defaults, **dict(args.get_config() or {})}


def get_path(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def as_list(value: Any) -> list[Any]:
    """A list input as a Python list (a lone string counts as one item; absent as none)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    return []


def is_true(value: Any) -> bool:
    """True for a boolean true or its string form (some AWS inputs, e.g. Redshift `encrypted`, are strings)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def as_int(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def as_json(value: Any) -> Any:
    """A JSON document given as text or as an object; None when absent. Raises ValueError on unreadable text."""
    if value is None or isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        return json.loads(value) if value.strip() else None
    raise ValueError(f"expected a JSON document, got {type(value).__name__}")


def is_world(cidr: Any) -> bool:
    try:
        return isinstance(cidr, str) and ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def policy_statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of an IAM-style JSON policy document (one statement or a list)."""
    statement = get_path(document, "Statement")
    if isinstance(statement, Mapping):
        return [statement]
    return [s for s in as_list(statement) if isinstance(s, Mapping)]
