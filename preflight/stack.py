"""The stack's configuration as the program will see it: `Pulumi.<stack>.yaml`, the defaults declared in
`settings.KEYS`, and `settings.load()` itself run over the file to find what the program would reject."""
from __future__ import annotations

import contextvars
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import settings as runtime_settings

import settings

SECURE = "secure"  # how the CLI stores a value set with `pulumi config set --secret`: {secure: v1:...}
CONFLUENT_KEYS = ("confluentcloud:cloudApiKey", "confluentcloud:cloudApiSecret")


@dataclass(frozen=True)
class StackFile:
    stack: str
    path: Path
    exists: bool
    document: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> dict[str, Any]:
        return self.document.get("config") or {}

    @property
    def secrets_provider(self) -> str:
        return self.document.get("secretsprovider") or ""

    def is_encrypted(self, key: str) -> bool:
        value = self.config.get(key)
        return isinstance(value, dict) and SECURE in value

    def project_value(self, name: str) -> Any:
        """A key of the project namespace, or its default from settings.KEYS when the file leaves it out."""
        key = f"{settings.PROJECT}:{name}"
        if key in self.config:
            return self.config[key]
        return next(k.default for k in settings.KEYS if k.name == name)


def read_stack(root: Path, stack: str) -> StackFile:
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return StackFile(stack, path, exists=False)
    return StackFile(stack, path, exists=True, document=yaml.safe_load(path.read_text()) or {})


def _as_config_string(value: Any) -> str:
    """How the CLI hands a YAML value to the program: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def settings_problems(stack_file: StackFile) -> list[str]:
    """What `settings.load()` rejects in this stack file, in its own words.

    The Confluent credentials are stood in for here: where they come from, and whether they work, is the
    Confluent check's to say. The program's runtime state is changed only inside a copied context.
    """
    config = {key: _as_config_string(value) for key, value in stack_file.config.items()}
    config.update({key: "checked-separately" for key in CONFLUENT_KEYS})

    def load() -> list[str]:
        runtime_settings.configure(runtime_settings.Settings(project=settings.PROJECT, stack=stack_file.stack))
        pulumi.runtime.set_all_config(config, list(CONFLUENT_KEYS))
        try:
            settings.load()
        except settings.SettingsError as error:
            return list(error.problems)
        return []

    return contextvars.copy_context().run(load)
