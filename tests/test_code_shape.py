"""The code keeps the shape the style guide asks for (../shared/STYLE.md).

- no function longer than 40 lines, and no node longer than 15 lines of body, docstrings
  not counted, unless a ``# long:`` comment inside says why;
- the core imports neither Kedro nor MLflow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")])
MAX_LINES, MAX_NODE_BODY = 40, 15


def _functions(path: Path):
    tree = ast.parse(path.read_text())
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _docstring_lines(func: ast.FunctionDef) -> int:
    first = func.body[0]
    is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
        and isinstance(first.value.value, str)
    return first.end_lineno - first.lineno + 1 if is_doc else 0


def _too_long(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    found = []
    for func in _functions(path):
        text = lines[func.lineno - 1:func.end_lineno]
        if any("# long:" in line for line in text):
            continue
        size = len(text) - _docstring_lines(func)
        is_node = path.name == "nodes.py" and not func.name.startswith("_")
        body = func.end_lineno - func.body[0].lineno + 1 - _docstring_lines(func)
        if size > MAX_LINES or (is_node and body > MAX_NODE_BODY):
            found.append(f"{path.relative_to(ROOT)}:{func.lineno} {func.name} ({size} lines, "
                         f"body {body})")
    return found


def test_no_function_is_too_long_without_saying_why():
    found = [line for path in SOURCES for line in _too_long(path)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", sorted((ROOT / "src/synthbalance/core").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT / "src/synthbalance/core")))
def test_the_core_imports_neither_kedro_nor_mlflow(path):
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        assert not [n for n in names if n.split(".")[0] in ("kedro", "mlflow")], path
