"""
The core is pure: checked on the source with ``ast``, without importing or running it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import storemon

PACKAGE_DIR = Path(storemon.__file__).parent

#: The pure, synchronous core (STYLE.md, section 3): values, the maths, the CSV formats,
#: the parsers and the decisions; none of them does I/O, however it is fed.
CORE_MODULES = (
    "model",
    "interval",
    "localtime",
    "uptime",
    "report",
    "csvformat",
    "explain",
    "drawing",
    "display",
    "parsing",
    "lines",
    "sources",
    "refresh",
)

#: Modules the core may import besides each other: the standard library's pure parts and attrs.
ALLOWED_THIRD_PARTY = {"attrs"}
ALLOWED_STORE_MODULES = {f"storemon.{name}" for name in CORE_MODULES} | {"storemon.errors"}
#: Standard-library modules that read clocks, the environment, files or the network.
FORBIDDEN_STDLIB = {
    "asyncio",
    "io",
    "logging",
    "os",
    "pathlib",
    "random",
    "secrets",
    "shutil",
    "socket",
    "sqlite3",
    "subprocess",
    "sys",
    "tempfile",
    "threading",
    "time",
    "urllib",
    "uuid",
}
#: Functions that read the clock, the environment or files, or write to the console.
FORBIDDEN_NAMES = {"open", "print", "input", "breakpoint", "exec", "eval", "__import__"}
#: (``time.time`` needs the ``time`` module, refused above; ``dt.time`` is a plain value.)
FORBIDDEN_ATTRIBUTES = {
    "now",
    "utcnow",
    "today",
    "time_ns",
    "monotonic",
    "perf_counter",
    "sleep",
    "getenv",
    "environ",
    "urandom",
}


def parse(name: str) -> ast.Module:
    path = PACKAGE_DIR / f"{name}.py"
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """
    Every module an ``import`` statement anywhere in the tree names, with its line.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"line {node.lineno}: relative import"
            assert node.module is not None
            found.append((node.lineno, node.module))
    return found


def import_problem(module: str) -> str | None:
    top = module.split(".")[0]
    if module == "__future__":
        return None
    if top == "storemon":
        return None if module in ALLOWED_STORE_MODULES else "a non-core storemon module"
    if top in ALLOWED_THIRD_PARTY:
        return None
    if top in sys.stdlib_module_names:
        return "an impure standard-library module" if top in FORBIDDEN_STDLIB else None
    return "a third-party module"


@pytest.mark.parametrize("name", CORE_MODULES)
def test_core_imports_only_stdlib_attrs_and_core(name: str) -> None:
    """A core module imports only pure standard-library modules, attrs and other core modules."""
    problems = [
        f"storemon/{name}.py:{line}: imports {module}: {problem}"
        for line, module in imported_modules(parse(name))
        if (problem := import_problem(module)) is not None
    ]
    assert problems == []


@pytest.mark.parametrize("name", CORE_MODULES)
def test_core_reads_no_clock_environment_or_files(name: str) -> None:
    """A core module never calls now(), time(), open(), print() or reads the environment."""
    problems: list[str] = []
    for node in ast.walk(parse(name)):
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            problems.append(f"line {node.lineno}: {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            problems.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.AsyncFunctionDef | ast.Await | ast.AsyncFor | ast.AsyncWith):
            problems.append(f"line {node.lineno}: async code")
        elif isinstance(node, ast.Global | ast.Nonlocal):
            problems.append(f"line {node.lineno}: global state")
    assert problems == []


def test_purity_checks_can_fail() -> None:
    """The checks above flag a clock read, a file read, an async function and an impure import."""
    tree = ast.parse(
        "import os\nimport datetime as dt\nfrom storemon.dataset import load_csv\n"
        "async def f():\n    return dt.datetime.now(), open('x')\n"
    )
    assert [import_problem(module) for _, module in imported_modules(tree)] == [
        "an impure standard-library module",
        None,
        "a non-core storemon module",
    ]
    kinds = {
        type(node).__name__
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef)
        or (isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES)
        or (isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES)
    }
    assert kinds == {"AsyncFunctionDef", "Attribute", "Name"}


def test_storemon_never_imports_the_server() -> None:
    """No storemon module imports storemon_server anywhere: the dependency is one-way."""
    problems: list[str] = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            problems.extend(
                f"{path.relative_to(PACKAGE_DIR)}:{node.lineno}: {name}"
                for name in names
                if name.split(".")[0] == "storemon_server"
            )
    assert problems == []
