"""The names the program gives a stack's cloud resources, for finding them when its outputs are not there (a
failed ``up``) or no longer there (after ``destroy``). tests/test_e2e_naming.py keeps each rule in agreement
with what the program declares under mocks."""
from __future__ import annotations

from typing import Any

import settings
from components.cdc_source import TABLES


def prefix(stack: str) -> str:
    return f"fraud-{stack}"  # settings.Settings.prefix


def aws_tags(stack: str) -> dict[str, str]:
    """The AWS provider's default tags that single out this stack (the owner tag is shared between stacks)."""
    return {"project": settings.PROJECT, "stack": stack}


def environment_name(stack: str) -> str:
    return f"{prefix(stack)}-env"  # KafkaPlatform's environment display name


def oracle_status_parameter(stack: str) -> str:
    return f"/{prefix(stack)}/oracle/status"  # where the Oracle host reports ready or its log tail


def cdc_topics(config: dict[str, Any]) -> list[str]:
    """The CDC source's topics (= the Flink source tables) for a stack config."""
    defaults = {key.name: key.default for key in settings.KEYS}
    topic_prefix = config.get(f"{settings.PROJECT}:topicPrefix", defaults["topicPrefix"])
    schema = config.get(f"{settings.PROJECT}:oracleAppSchema", defaults["oracleAppSchema"])
    return [f"{topic_prefix}.{schema}.{table}" for table in TABLES]
