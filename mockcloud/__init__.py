"""The program evaluated offline, under mocked clouds: what `make plan`, `make policy`, the benchmarks and the
tests run on.

``run_program("dev")`` evaluates ``__main__.py`` with a stack's config and returns every registered resource
(``mockcloud.program``); what the mocked AWS and Confluent Cloud answer lives in ``mockcloud.answers``.
"""
from mockcloud.config_schema import StackConfigError
from mockcloud.program import Invoke, Program, Resource, run_program, stack_config

__all__ = ["Invoke", "Program", "Resource", "StackConfigError", "run_program", "stack_config"]
