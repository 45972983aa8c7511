"""What the Pulumi CLI checks of a stack's config against the project's ``config:`` schema before the program
runs, done the same way offline so that `make plan` and `make policy` reject what `pulumi up` would.

The CLI's rules (pulumi/pulumi pkg/workspace/config.go, ``mergeConfig`` and ``validateStackConfigValue``;
sdk/go/common/workspace/project.go, ``ValidateConfigValue``; read 2026-12-01):

- a key of the project namespace that Pulumi.yaml declares without a default must be set
  ("Stack 'dev' is missing configuration value 'owner'");
- a set value of an explicitly typed key must have that type ("Stack 'dev' with configuration key 'azCount'
  must be of type 'integer'"). Scalars travel as strings: ``integer`` accepts what Go's ``strconv.Atoi``
  parses, ``boolean`` only ``true``/``false``, ``string`` any scalar; ``array`` needs a list whose items
  (JSON-decoded) have the item type;
- declared defaults fill in the keys a stack does not set (the program then reads them as config).

Keys Pulumi.yaml does not declare are not the CLI's concern (it stopped rejecting them with #11192, the fix
of pulumi/pulumi#11127); ``settings.load()`` rejects those in the project namespace itself.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

GO_ATOI = re.compile(r"^[+-]?[0-9]+$")


class StackConfigError(ValueError):
    """Raised with every problem the CLI would report before running the program."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("validating stack config:\n" + "\n".join(f"  - {problem}" for problem in problems))


def as_cli_value(value: Any) -> Any:
    """A stack value as the CLI validates it: scalars as their string form, lists and maps as decoded JSON."""
    if isinstance(value, (list, dict)):
        return json.loads(json.dumps(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def valid(type_name: str, items: Mapping[str, Any] | None, value: Any) -> bool:
    """The CLI's ValidateConfigValue."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        if isinstance(value, float):
            return value.is_integer()
        return isinstance(value, str) and bool(GO_ATOI.match(value))
    if type_name == "boolean":
        return value in ("true", "false") or isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or items is None:
        return False
    return all(valid(items["type"], items.get("items"), item) for item in value)


def type_label(type_name: str, items: Mapping[str, Any] | None) -> str:
    """The CLI's InferFullTypeName: ``array<string>`` and so on."""
    if items is not None:
        return f"array<{type_label(items['type'], items.get('items'))}>"
    return type_name


def _project_key(project: str, name: str) -> str:
    return name if ":" in name else f"{project}:{name}"


def validate(stack: str, config: Mapping[str, Any], project: str, schema: Mapping[str, Any]) -> None:
    """Raise StackConfigError when the CLI would refuse to run the program with ``config``."""
    missing = sorted(
        name for name, entry in schema.items()
        if _project_key(project, name) not in config and "default" not in entry and "value" not in entry
        and _project_key(project, name).startswith(f"{project}:")
    )
    problems: list[str] = []
    if missing:
        noun = "value" if len(missing) == 1 else "values"
        problems.append(f"Stack '{stack}' is missing configuration {noun} {', '.join(repr(m) for m in missing)}")
    for name, entry in sorted(schema.items()):
        key = _project_key(project, name)
        if key not in config or "type" not in entry:
            continue
        if not valid(entry["type"], entry.get("items"), as_cli_value(config[key])):
            problems.append(
                f"Stack '{stack}' with configuration key '{name}' must be of type "
                f"'{type_label(entry['type'], entry.get('items'))}' (got {config[key]!r})"
            )
    if problems:
        raise StackConfigError(problems)


def with_defaults(config: Mapping[str, Any], project: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` plus the declared default of every key it does not set, as the CLI merges them."""
    merged = dict(config)
    for name, entry in schema.items():
        key = _project_key(project, name)
        if key not in merged and "default" in entry:
            merged[key] = entry["default"]
    return merged
