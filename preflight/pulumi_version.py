"""The Pulumi CLI release this program needs: the newest first-release of the features it uses.

Each feature is listed once below with the first CLI release that supports it and where that is written
(https://github.com/pulumi/pulumi/blob/master/CHANGELOG.md and the release tags of the engine's
`SupportsFeature` answers, read 2026-12-01). The requirement is computed from the program itself: the
modules `__main__.py` imports are scanned for those resource options and functions, and `Pulumi.yaml` for
typed project config. Dropping `replace_with` lowers the requirement; adding `deleted_with` raises it to at
least that option's release. An older CLI fails in the middle of `pulumi up` ("The Pulumi CLI does not
support the ReplaceWith option") or, for options the SDK does not check, ignores them silently.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

Version = tuple[int, int, int]


@dataclass(frozen=True)
class Feature:
    """A CLI capability and the first release that has it."""

    name: str
    release: Version
    source: str


# Keyword arguments of pulumi.ResourceOptions that an older engine refuses or ignores. Sources: the CHANGELOG
# entry of the first release (pulumi/pulumi CHANGELOG.md), or the first release tag holding the engine change.
RESOURCE_OPTIONS: dict[str, Feature] = {
    "replace_on_changes": Feature("replaceOnChanges", (3, 6, 1), "pulumi CHANGELOG 3.6.1 (2021-07-07), #7226"),
    "retain_on_delete": Feature("retainOnDelete", (3, 25, 0), "pulumi CHANGELOG 3.25.0 (2022-02-23), #8746"),
    "deleted_with": Feature("deletedWith", (3, 46, 1), "pulumi CHANGELOG 3.46.1 (2022-11-09), #11095"),
    "transforms": Feature("transforms", (3, 107, 0), "pulumi CHANGELOG 3.107.0 (2024-02-21), #15290"),
    "hooks": Feature("resource hooks", (3, 182, 0), "pulumi CHANGELOG 3.182.0 (2025-07-14), #19874"),
    "replace_with": Feature("replaceWith", (3, 207, 0), "pulumi CHANGELOG 3.207.0 (2025-11-12), #20693"),
    "replacement_trigger": Feature("replacementTrigger", (3, 208, 0), "pulumi CHANGELOG 3.208.0 (2025-11-20), #20936"),
}
# SDK functions that need the engine's side of a feature.
FUNCTIONS: dict[str, Feature] = {
    "register_resource_transform": RESOURCE_OPTIONS["transforms"],
    "register_stack_transform": RESOURCE_OPTIONS["transforms"],
    "register_invoke_transform": Feature("invoke transforms", (3, 124, 0), "engine change #16559, first in tag v3.124.0"),
}
PROJECT_CONFIG = Feature("typed project config", (3, 44, 0), "pulumi CHANGELOG 3.44.0 (2022-10-24), #10832")
BASELINE = Feature("the pulumi 3 SDK", (3, 0, 0), "requirements.txt")

VERSION_FORM = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(\S*)")


@dataclass(frozen=True)
class Use:
    """One place where the program uses a feature."""

    feature: Feature
    where: str  # path:line, relative to the project root


@dataclass(frozen=True)
class Requirement:
    version: Version
    uses: tuple[Use, ...]  # the uses that set the version (the newest feature), first one first

    @property
    def text(self) -> str:
        return "v" + ".".join(map(str, self.version))

    def reason(self) -> str:
        if not self.uses:
            return f"{BASELINE.name} in {BASELINE.source}"
        feature = self.uses[0].feature
        places = ", ".join(use.where for use in self.uses)
        return f"{feature.name} in {places}; {feature.source}"


def parse_version(text: str) -> tuple[int, int, int, int] | None:
    """`v3.207.0` -> (3, 207, 0, 1); a pre-release such as `v3.207.0-alpha.1` sorts below its release."""
    match = VERSION_FORM.search(text.strip())
    if not match:
        return None
    major, minor, patch, suffix = match.groups()
    return int(major), int(minor), int(patch), 0 if suffix.startswith("-") else 1


def program_modules(root: Path, entry: str = "__main__.py") -> list[Path]:
    """The entry file and every module of the project it imports, directly or not."""
    seen: list[Path] = []
    pending = [root / entry]
    while pending:
        path = pending.pop()
        if path in seen or not path.is_file():
            continue
        seen.append(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                package = path.relative_to(root).parent.parts
                base = package[: len(package) - node.level + 1] if node.level else ()
                module = ".".join([*base, *([node.module] if node.module else [])])
                names = [module] + [f"{module}.{alias.name}" for alias in node.names]
            for name in names:
                relative = Path(*name.split(".")) if name else None
                if relative is not None:
                    pending += [root / relative.with_suffix(".py"), root / relative / "__init__.py"]
    return sorted(seen)


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def feature_uses(root: Path) -> list[Use]:
    """Every use of a listed feature by the program under ``root``."""
    uses: list[Use] = []
    for path in program_modules(root):
        where = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = _called_name(node)
            if name == "ResourceOptions":
                uses += [Use(RESOURCE_OPTIONS[k.arg], f"{where}:{node.lineno}") for k in node.keywords if k.arg in RESOURCE_OPTIONS]
            elif name in FUNCTIONS:
                uses.append(Use(FUNCTIONS[name], f"{where}:{node.lineno}"))
    project = yaml.safe_load((root / "Pulumi.yaml").read_text()) or {}
    if any(isinstance(spec, dict) and "type" in spec for spec in (project.get("config") or {}).values()):
        uses.append(Use(PROJECT_CONFIG, "Pulumi.yaml"))
    return uses


def required_version(root: Path) -> Requirement:
    uses = feature_uses(root)
    newest = max((use.feature.release for use in uses), default=BASELINE.release)
    return Requirement(newest, tuple(use for use in uses if use.feature.release == newest))
