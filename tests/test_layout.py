"""The repository's layout rules that code review would otherwise have to remember."""
import ast

from mockcloud.program import ROOT

SKIPPED_DIRS = {".git", ".venv", ".venv-flink", "tests", "node_modules", "__pycache__"}


def _production_modules():
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if not SKIPPED_DIRS.intersection(parts) and not any(part.startswith(".venv") for part in parts):
            yield path


def _imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_production_code_never_imports_from_tests():
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _production_modules()
        for module in _imported_modules(path)
        if module == "tests" or module.startswith("tests.")
    ]
    assert not offenders, offenders
