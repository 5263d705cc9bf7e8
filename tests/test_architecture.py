"""The shape of the package: imports run one way, and the base modules import nothing above."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "essay_marker"
# Below everything: these import nothing of the package, or only each other as listed.
BASE = {
    "essay_marker.records": set(),
    "essay_marker.errors": set(),
    "essay_marker.fsutil": set(),
    "essay_marker.text": set(),
    "essay_marker.spelling": {"essay_marker.text"},
    "essay_marker.rubric": {"essay_marker.errors", "essay_marker.records"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports, at the top or inside functions."""
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                base = node.module
                if node.level:  # relative imports are not used, but read them right
                    parts = name.split(".")[: -node.level]
                    base = ".".join([*parts, node.module])
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_package_imports_have_no_cycle():
    assert _cycles(import_graph()) == []


def test_the_cycle_finder_finds_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_base_modules_import_nothing_above_them():
    graph = import_graph()
    for module, allowed in BASE.items():
        assert graph[module] <= allowed, f"{module} imports {graph[module] - allowed}"


def test_only_the_cli_layer_imports_the_cli():
    graph = import_graph()
    users = {m for m, deps in graph.items() if "essay_marker.cli" in deps}
    assert users <= {"essay_marker.launch", "essay_marker.__main__"}
    users = {
        m for m, deps in graph.items() if any(d.startswith("essay_marker.commands") for d in deps)
    }
    assert {u for u in users if not u.startswith("essay_marker.commands")} <= {"essay_marker.cli"}


# Top to bottom: a module may import its own layer or lower ones, never a higher one.
LAYERS = [
    ["cli", "launch", "__main__", "commands.*"],
    ["batch.*", "training.*", "moderation", "store"],
    ["scoring"],
    ["screen.*", "levels", "feedback", "model.*", "render.*"],
    ["analysis.*", "dataset"],
    ["text", "spelling", "readers", "rubric", "records", "errors", "fsutil"],
]


def _layer(module: str) -> int | None:
    short = module.removeprefix("essay_marker.")
    for depth, names in enumerate(LAYERS):
        for name in names:
            if short == name or (name.endswith(".*") and short.startswith(name[:-1])):
                return len(LAYERS) - depth
    return None


def test_imports_run_down_the_layers():
    graph = import_graph()
    unplaced = [m for m in graph if graph[m] and _layer(m) is None]
    assert not unplaced, f"give these modules a layer in LAYERS: {unplaced}"
    upward = [
        f"{m} -> {d}"
        for m, deps in graph.items()
        for d in deps
        if _layer(d) is not None and _layer(m) is not None and _layer(d) > _layer(m)
    ]
    assert upward == []


def test_an_upward_import_is_caught():
    assert _layer("essay_marker.scoring") > _layer("essay_marker.analysis.coverage")
    assert _layer("essay_marker.batch.run") > _layer("essay_marker.scoring")
