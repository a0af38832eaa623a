"""The boundaries of the design page, checked on what each package really imports, and the
house rules checked on the files themselves: no import circle among the project's modules,
no module over 400 lines (migrations and word tables aside)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def imported_by(module: str) -> set[str]:
    code = (
        "import importlib, json, pkgutil, sys\n"
        f"pkg = importlib.import_module({module!r})\n"
        "for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    if 'migrations' not in info.name and not info.name.endswith('__main__'):\n"
        "        importlib.import_module(info.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return {name.split(".")[0] for name in json.loads(out)}


def test_domain_imports_neither_web_nor_serial_nor_hardware() -> None:
    loaded = imported_by("locker")
    assert not loaded & {"fastapi", "starlette", "serial", "drivers", "sim", "api"}


@pytest.mark.parametrize(("package", "forbidden"), [("drivers", "sim"), ("sim", "drivers")])
def test_driver_and_simulator_share_no_code(package: str, forbidden: str) -> None:
    """Each side has its own codec, so a symmetric bug cannot pass the golden frames."""
    loaded = imported_by(package)
    assert forbidden not in loaded
    assert "fastapi" not in loaded


ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("locker", "drivers", "sim", "api", "fleet", "common", "bench", "tests")
MAX_LINES = 400
# Tables of words in two languages: long by nature, and nothing but data.
WORD_TABLES = {"api/screens/i18n.py", "fleet/screens/i18n.py"}


def project_modules() -> dict[str, Path]:
    """Every module of the project by dotted name (a package by its ``__init__``)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imported(module: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The project modules ``module`` imports, anywhere in its file (a function's own
    import counts: it is the usual way to hide a circle)."""

    def owner(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [owner(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            targets = [
                owner(f"{base}.{alias.name}") if f"{base}.{alias.name}" in known else owner(base)
                for alias in node.names
            ]
        else:
            continue
        yield from (t for t in targets if t is not None and t != module)


def import_graph() -> dict[str, set[str]]:
    known = project_modules()
    return {m: set(_imported(m, p, known)) for m, p in known.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_itself_back_through_others() -> None:
    assert circles(import_graph()) == []


def test_the_circle_finder_sees_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_graph_holds_what_the_files_import() -> None:
    graph = import_graph()
    assert "locker.store.db" in graph["locker.station"]
    assert "fleet.problems" in graph["fleet.app"]
    assert "common.errors" in graph["locker.errors"]


def test_no_module_is_longer_than_the_limit() -> None:
    long = {}
    for path in project_modules().values():
        where = path.relative_to(ROOT).as_posix()
        if "/migrations/" in where or where in WORD_TABLES:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            long[where] = lines
    assert long == {}


def test_the_root_of_locker_holds_only_the_domain() -> None:
    root = {p.stem for p in (ROOT / "locker").glob("*.py")}
    assert root == {
        "__init__",
        "alerts",
        "assignment",
        "audit",
        "codes",
        "errors",
        "front",
        "handover",
        "layout",
        "lifecycle",
        "locks",
        "sensors",
        "station",
        "types",
    }


def test_the_hub_imports_nothing_of_the_stations_web_side() -> None:
    loaded = imported_by("fleet")
    assert "api" not in loaded


def test_the_shared_base_imports_neither_side() -> None:
    loaded = imported_by("common")
    assert not loaded & {"api", "fleet", "locker", "drivers", "sim"}
