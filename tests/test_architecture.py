"""The shape of the code, read from its imports: no cycles, imports point bot → adapters → core, small files.

Imports are read with `ast` from every module under core/, adapters/ and bot/: top-level ones, those inside
functions (a late import hides a cycle, it does not remove it) and those under `if TYPE_CHECKING:`.
TYPE_CHECKING imports count, for cycles and for layering alike: a module that names another's types
depends on that module's design, and an import that is "only for typing" today is one refactor away
from a real one. Importing `a.b.c` also runs `a/__init__` and `a/b/__init__`; those implied parent edges
are left out, because a package's `__init__` importing its own children is how packages work.

Each rule is checked by a pure function, and each function is also fed a fabricated bad graph, so a
rule that silently stopped matching anything would fail here too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "adapters", "bot")
MAX_LINES = 300
# Data, not logic: the model catalog transcribes Segmind's pages and reads best as one table.
LONG_FILES_ALLOWED = frozenset({"core/catalog.py"})
PLATFORM_LIBRARIES = ("discord", "telegram")
WEB_SERVERS = ("aiohttp.web",)  # `from aiohttp import web` is recorded as aiohttp.web
SIMULATOR = "core.simulator"

Graph = Mapping[str, set[str]]


# --- reading the imports ---------------------------------------------------------------------------


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files() -> dict[str, Path]:
    files = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                files[module_name(path)] = path
    return files


def imported_names(path: Path, module: str) -> set[str]:
    """Every dotted name the module imports, anywhere in the file; `from a import b` gives a and a.b."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_from(module, node.module, node.level, is_package=is_package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _resolve_from(module: str, target: str | None, level: int, *, is_package: bool) -> str:
    if level == 0:
        return target or ""
    parts = module.split(".")
    package = parts if is_package else parts[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, *([target] if target else [])])


def import_graph(files: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module → the project modules it imports (the most specific module each imported name names)."""
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        edges = set()
        for name in imported_names(path, module):
            if name in files:
                edges.add(name)
        # `from core.jobs import engine` names core.jobs and core.jobs.engine: keep the module, not the package
        graph[module] = {e for e in edges if not any(o.startswith(e + ".") for o in edges)} - {module}
    return graph


# --- the rules, as pure functions ------------------------------------------------------------------


def find_cycles(graph: Graph) -> list[list[str]]:
    """One concrete cycle (a → b → … → a) per strongly connected component that has one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan; the project graph is a few hundred nodes, recursion is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_in(graph, component) for component in components]


def _cycle_in(graph: Graph, component: set[str]) -> list[str]:
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth first inside the component: the shortest way back to the start
        nxt_frontier = []
        for node in frontier:
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    return [*paths[node], start]
                if nxt in component and nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def _names(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layering_violations(imports: Mapping[str, set[str]]) -> list[str]:
    """`imports`: module → every dotted name it imports (project and third party)."""
    problems = []
    for module, names in sorted(imports.items()):
        for name in sorted(names):
            if _names(module, ("core",)):
                if _names(name, ("adapters", "bot", *PLATFORM_LIBRARIES)):
                    problems.append(f"{module} imports {name}: core knows no adapter, bot or platform library")
                elif _names(name, WEB_SERVERS) and not _names(module, (SIMULATOR,)):
                    problems.append(f"{module} imports {name}: only {SIMULATOR} may run a web server")
            elif _names(module, ("adapters",)):
                mine = ".".join(module.split(".")[:2])
                if _names(name, ("adapters",)) and name.count(".") >= 1 and not _names(name, (mine,)):
                    problems.append(f"{module} imports {name}: adapters never import each other")
                elif _names(name, ("bot",)):
                    problems.append(f"{module} imports {name}: adapters do not reach into the wiring")
    return problems


def oversized(line_counts: Mapping[str, int]) -> list[str]:
    return sorted(f"{path}: {count} lines" for path, count in line_counts.items()
                  if count > MAX_LINES and path not in LONG_FILES_ALLOWED)


# --- the project -----------------------------------------------------------------------------------


def test_the_project_has_no_import_cycle():
    cycles = find_cycles(import_graph(project_files()))
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(cycle) for cycle in cycles)


def test_imports_point_from_bot_to_adapters_to_core():
    files = project_files()
    problems = layering_violations({m: imported_names(p, m) for m, p in files.items()})
    assert not problems, "\n".join(problems)


def test_no_module_is_over_the_size_limit():
    counts = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
              for p in project_files().values()}
    assert counts, "no files found: the walk is broken"
    assert not oversized(counts), "split along a real seam:\n" + "\n".join(oversized(counts))


def test_the_walk_sees_late_and_type_checking_imports():
    files = project_files()
    assert {"core.service", "core.jobs.engine", "adapters", "bot.app"} <= set(files)
    # the telegram adapter imports python-telegram-bot, and names core.service only under TYPE_CHECKING
    assert "telegram" in {n.split(".")[0] for n in imported_names(files["adapters.telegram.adapter"],
                                                                   "adapters.telegram.adapter")}


# --- each rule can fail ----------------------------------------------------------------------------


def test_the_cycle_finder_reports_a_fabricated_cycle_with_its_path():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert sorted(find_cycles(graph)) == [["a", "b", "c", "a"], ["e", "e"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_late_and_type_checking_imports_are_read(tmp_path: Path):
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n    from core.jobs.engine import JobEngine\n"
        "def f():\n    import discord\n    from ..up import thing\n",
        encoding="utf-8",
    )
    names = imported_names(source, "pkg.sub.mod")
    assert {"pkg.sub.sibling", "core.jobs.engine", "discord", "pkg.up.thing"} <= names


def test_the_layering_rule_catches_each_kind_of_violation():
    problems = layering_violations({
        "core.service": {"discord", "core.types"},
        "core.jobs.engine": {"aiohttp.web"},
        "core.simulator.server": {"aiohttp.web"},  # allowed: the simulator is a server
        "core.store.sqlite": {"bot.settings"},
        "adapters.discord.handlers": {"adapters.telegram.render", "adapters.discord.render", "core.service"},
        "adapters.console.session": {"bot.app"},
    })
    assert [p.split(" imports ")[0] for p in problems] == [
        "adapters.console.session", "adapters.discord.handlers", "core.jobs.engine", "core.service",
        "core.store.sqlite",
    ]


def test_the_size_rule_names_long_files_but_not_allowed_data():
    counts = {"core/catalog.py": 900, "core/engine.py": MAX_LINES + 1, "core/small.py": MAX_LINES}
    assert oversized(counts) == [f"core/engine.py: {MAX_LINES + 1} lines"]
