"""No import cycles in `server/`, counting the imports inside functions too.

A cycle that closes only through a function-level import does not fail today, which is how the
old ones hid: such lazy imports become load-bearing. This walks every module's imports (at any
depth) and fails on a strongly connected group of two or more modules, naming the imports that
close it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SERVER = Path(__file__).resolve().parents[1] / "server"


def module_name(path: Path) -> str:
    parts = path.relative_to(SERVER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(name: str, path: Path, node: ast.AST) -> list[str]:
    """The modules an import statement names (a `from x import y` names x and x.y)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    return [base] + [f"{base}.{a.name}" for a in node.names]


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in SERVER.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[name] |= {t for t in imported(name, path, node) if t in files and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_the_cycle_finder_finds_a_cycle_that_closes_through_a_lazy_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_server_has_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 50, "the walk found too few modules: is SERVER right?"
    problems = [" -> ".join(group) + "; closing imports: " + ", ".join(f"{a} imports {b}" for a in group for b in sorted(graph[a] & set(group)))
                for group in cycles(graph)]
    assert not problems, "import cycles in server/:\n" + "\n".join(problems)


def test_the_server_imports_neither_the_evaluation_tools_nor_training_libraries():
    """eval/ adds its commands through an entry point (server/cli.py, add_plugin_commands), so no
    server module names it; and a server process (the app, the engine, the trained grader) loads
    no training library (scikit-learn, SciPy)."""
    files = {module_name(p): p for p in SERVER.rglob("*.py")}
    naming_eval = sorted(f"{name} imports {t}" for name, path in files.items()
                         for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                         if isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0)
                         for t in imported(name, path, node)[:1] if t == "eval" or t.startswith("eval."))
    assert not naming_eval, naming_eval
    probe = ("import sys, server.api.app, server.engine.factory, server.grading.trained; "
             "print(sorted(m for m in ('sklearn', 'scipy', 'eval') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=SERVER.parent, capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]", loaded.stdout


# Which top-level parts of `server` each part may import: the core under everything, grading and
# realise under the engine, the engine under the API (a `-` entry lists what is forbidden).
LAYERS = {
    "core": {"core"},
    "grading": "-engine api speech store",
    "realise": "-engine api speech store grading",
}


def package_imports(graph: dict[str, set[str]], part: str) -> set[tuple[str, str]]:
    """(module, imported module) for every import from `server.<part>` into another part."""
    return {(a, b) for a, targets in graph.items() if a.split(".")[1:2] == [part]
            for b in targets if b.split(".")[1:2] != [part] and b != "server"}


def test_the_core_imports_nothing_else_and_grading_and_realise_do_not_import_the_engine():
    graph = import_graph()
    assert any(m.startswith("server.core.") for m in graph), "server/core is missing"
    problems = []
    for part, rule in LAYERS.items():
        for a, b in sorted(package_imports(graph, part)):
            target = b.split(".")[1]
            allowed = target in rule if isinstance(rule, set) else target not in rule[1:].split()
            if not allowed:
                problems.append(f"{a} imports {b}")
    assert not problems, "layering broken (server.core imports nothing else; grading and realise do not import the engine):\n" + "\n".join(problems)


def test_the_layering_check_catches_an_upward_import():
    graph = {"server.core.text": {"server.engine.patient"}, "server.engine.patient": set()}
    assert package_imports(graph, "core") == {("server.core.text", "server.engine.patient")}
