"""
The modules of ``storemon`` import each other without a cycle, counting the imports made
inside functions too: a reader finds any behaviour by following imports downward.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import storemon

PACKAGE_DIR = Path(storemon.__file__).parent


def module_name(path: Path, root: Path) -> str:
    """
    The dotted name of a module file under ``root`` (the folder holding the package).
    """
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def runtime_imports(tree: ast.AST, known: Iterable[str]) -> set[str]:
    """
    The modules among ``known`` that ``tree`` imports when it runs, wherever the import
    statement is (functions included), except under ``if TYPE_CHECKING:``; calls of
    ``importlib.import_module("...")`` with a literal name count too.
    """
    modules = set(known)
    found: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if _type_checking_only(node):
            pending.extend(getattr(node, "orelse", []))
            continue
        pending.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module:
            # ``from package import name`` imports the submodule ``name`` when there is one.
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & modules
            found.update(submodules or ({node.module} & modules))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in modules
        ):
            found.add(node.args[0].value)
    return found


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """
    Each module of the package and the package modules it imports at run time.
    """
    paths = sorted(package_dir.rglob("*.py"))
    names = {path: module_name(path, package_dir.parent) for path in paths}
    known = set(names.values())
    return {
        names[path]: runtime_imports(ast.parse(path.read_text(encoding="utf-8")), known)
        for path in paths
    }


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """
    A cycle of ``graph`` as the modules along it (the first repeated at the end), or None.
    """
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for target in sorted(graph.get(node, ())):
            cycle = visit(target)
            if cycle is not None:
                return cycle
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start)
        if cycle is not None:
            return cycle
    return None


def test_storemon_has_no_import_cycle() -> None:
    """No chain of run-time imports, lazy ones included, leads from a storemon module back to it."""
    graph = import_graph(PACKAGE_DIR)
    assert {"storemon.model", "storemon.uptime"} <= graph["storemon.report"]
    assert "storemon.storage.sqlite" in graph
    assert find_cycle(graph) is None


def test_the_import_graph_sees_lazy_imports_and_can_fail(tmp_path: Path) -> None:
    """A lazy import inside a method closes a cycle the check reports; TYPE_CHECKING ones do not."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "model.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg.sub import store\n"
        "class Report:\n    def to_csv(self):\n        from pkg import report\n"
    )
    (package / "report.py").write_text("import importlib\nimportlib.import_module('pkg.model')\n")
    (package / "sub" / "store.py").write_text("from pkg.model import Report\n")
    graph = import_graph(package)
    assert graph["pkg.model"] == {"pkg.report"}
    assert graph["pkg.sub.store"] == {"pkg.model"}
    assert find_cycle(graph) == ["pkg.model", "pkg.report", "pkg.model"]
    (package / "model.py").write_text("class Report:\n    pass\n")
    assert find_cycle(import_graph(package)) is None


def _modules_after(statement: str) -> set[str]:
    """
    The modules a fresh interpreter holds after running ``statement``.
    """
    run = subprocess.run(
        [sys.executable, "-c", f"{statement}; import sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(run.stdout.split())


def test_an_ingest_imports_neither_the_report_nor_http() -> None:
    """The ingest command's modules leave out the report, drawing, CSV reader and HTTP client."""
    loaded = _modules_after("import storemon.cli, storemon.ingest")
    assert {"storemon.cli", "storemon.ingest", "storemon.sources"} <= loaded
    unneeded = {
        "storemon.dataset",
        "storemon.explain",
        "storemon.drawing",
        "storemon.report",
        "storemon.service",
        "storemon.localtime",
        "storemon.display",
        "http.client",
        "urllib.request",
    }
    assert loaded & unneeded == set()


def test_public_names_load_on_first_use() -> None:
    """Every name of storemon.__all__ resolves; storemon.explain stays the function."""
    script = (
        "import storemon, storemon.explain as submodule_first; "
        "assert callable(storemon.explain) and storemon.explain.__module__ == 'storemon.service'; "
        "assert all(getattr(storemon, name) is not None for name in storemon.__all__); "
        "assert sorted(storemon.__all__) == sorted(storemon._HOMES); "
        "assert set(storemon.__all__) <= set(dir(storemon))"
    )
    assert "storemon.dataset" in _modules_after(script)
