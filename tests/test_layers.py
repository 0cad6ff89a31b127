"""The import-layer contract, checked from the source (AST): every import counts, lazy ones inside functions too.

Layers, bottom to top (a module may import its own layer and the ones below):

    games                 the rules; imports nothing of ours
    engine.core           errors, atomic files, seeding, process set-up; standard library, NumPy and Numba only
    nets                  the networks; imports only nets and engine.core (never a game, the engine or agents)
    engine.mcts           the search; reaches only games, engine.core and itself (no torch, nets or agents)
    agents                the players; never import a learner or a program
    engine learners/runs  engine.alphazero, engine.dqn, engine.distributed; never import a program
    programs              modules run as commands (a ``__main__`` guard, ``__main__.py``), engine.ui, engine.benchmarks

The rest of ``engine`` (``engine.cli``, ``engine.config``, ``engine.elo`` ...) is shared plumbing for the agents
and above. No file-level import cycle is allowed anywhere. The checks of the contract itself run on small
synthetic trees, so a violating import is shown to fail.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGES = ("games", "nets", "agents", "engine", "examples")
LEARNERS = ("engine.alphazero", "engine.dqn", "engine.distributed")
PROGRAM_PACKAGES = ("engine.ui", "engine.benchmarks")
CORE_EXTERNALS = {"numpy", "numba"}


def _within(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _modules(root: Path) -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def _imports(module: str, path: Path, modules: dict[str, Path]) -> tuple[set[str], set[str]]:
    """(modules of ours, top-level external packages) that ``module`` imports anywhere in its file."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    ours, external = set(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            subs = [f"{base}.{a.name}" for a in node.names]
            names = [s for s in subs if s in modules] + ([base] if any(s not in modules for s in subs) else [])
        else:
            continue
        for name in names:
            if name.split(".")[0] not in PACKAGES:
                external.add(name.split(".")[0])
                continue
            while name and name not in modules:
                name = name.rpartition(".")[0]
            # a package's own __init__ is already being imported when one of its modules imports it
            if name and name != module and not module.startswith(name + "."):
                ours.add(name)
    return ours, external


def import_graph(root: Path):
    modules = _modules(Path(root))
    graph, external = {}, {}
    for m, path in modules.items():
        graph[m], external[m] = _imports(m, path, modules)
    return modules, graph, external


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def _reach(graph: dict[str, set[str]], module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        for d in graph[todo.pop()]:
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def _is_program(module: str, path: Path) -> bool:
    if _within(module, PROGRAM_PACKAGES) or path.name == "__main__.py":
        return True
    return module.startswith("engine.") and '__name__ == "__main__"' in path.read_text(encoding="utf-8")


def check(root: Path) -> list[str]:
    """Every break of the layer contract in the tree at ``root``, one line each (empty when it holds)."""
    modules, graph, external = import_graph(root)
    programs = {m for m, p in modules.items() if _is_program(m, p)}
    upper = set(LEARNERS) | programs  # what the players must never import
    problems = [f"import cycle: {' -> '.join(c)}" for c in _cycles(graph)]
    stdlib = set(sys.stdlib_module_names)
    for m in sorted(modules):
        deps = sorted(graph[m])
        if _within(m, ["games"]):
            problems += [f"{m} imports {d}: games imports nothing of ours" for d in deps if not _within(d, ["games"])]
        elif _within(m, ["engine.core"]):
            problems += [f"{m} imports {d}: the core imports only itself" for d in deps
                         if not _within(d, ["engine.core"])]
            problems += [f"{m} imports {x}: the core needs only the standard library, NumPy and Numba"
                         for x in sorted(external[m] - stdlib - CORE_EXTERNALS)]
        elif _within(m, ["nets"]):
            problems += [f"{m} imports {d}: nets imports only nets and engine.core" for d in deps
                         if not _within(d, ["nets", "engine.core"]) and d != "engine"]
        elif _within(m, ["engine.mcts"]):
            reach = _reach(graph, m) | {m}
            problems += [f"{m} reaches {d}: the search imports only games, engine.core and itself"
                         for d in sorted(reach) if not _within(d, ["games", "engine.core", "engine.mcts"])]
            problems += [f"{m} reaches torch (through {r}): the search never imports torch"
                         for r in sorted(reach) if "torch" in external[r]]
        elif _within(m, ["agents"]):
            problems += [f"{m} imports {d}: a player never imports a learner or a program" for d in deps
                         if _within(d, ["examples", *upper])]
        elif _within(m, LEARNERS) and m not in programs:
            problems += [f"{m} imports {d}: a learner never imports a program" for d in deps if d in programs]
    return problems


def test_the_source_tree_keeps_its_layers():
    assert check(ROOT) == []


def test_import_nets_loads_no_engine_program_and_no_numba():
    """``import nets`` (a fresh interpreter) loads torch but not Numba, YAML, a game, an agent or an engine module
    outside the core."""
    import os
    import subprocess

    code = ("import sys, nets; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numba', 'yaml', 'games', 'agents', 'engine'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout.split()
    assert out and all(m == "engine" or m.startswith("engine.core") for m in out), out


# ------------------------------------------------------------------------------ the contract on synthetic trees
CLEAN = {
    "games/__init__.py": "from .base import Game\n",
    "games/base.py": "import numpy\nclass Game: pass\n",
    "games/go/__init__.py": "from .game import Go\n",
    "games/go/game.py": "from ..base import Game\nfrom . import sgf\n",
    "games/go/sgf.py": "from .. import make\n",
    "engine/__init__.py": "",
    "engine/core/__init__.py": "from .errors import UserError\n",
    "engine/core/errors.py": "import os\nclass UserError(Exception): pass\n",
    "engine/cli.py": "import yaml\nfrom .core import UserError\n",
    "engine/config.py": "from .cli import UserError\n",
    "nets/__init__.py": "import torch\nfrom engine.core import UserError\nfrom .model import Net\n",
    "nets/model.py": "import torch\nfrom engine.core.errors import UserError\n",
    "engine/mcts/__init__.py": "from .search import BatchedMCTS\n",
    "engine/mcts/search.py": "import numba\nfrom games.base import Game\nfrom ..core import UserError\n"
                             "from .tree import Tree\n",
    "engine/mcts/tree.py": "import numpy\n",
    "agents/__init__.py": "from .mcts import MCTSAgent\n",
    "agents/mcts.py": "from engine.mcts import BatchedMCTS\nimport nets\n",
    "engine/alphazero/__init__.py": "from .run import Run\n",
    "engine/alphazero/run.py": "import torch\nimport agents\nfrom ..mcts import BatchedMCTS\n"
                               "def use_ray():\n    from ..distributed import cluster\n",
    "engine/dqn/__init__.py": "",
    "engine/dqn/trainer.py": "import torch\nfrom ..distributed import cluster\n",
    "engine/dqn/__main__.py": "from .trainer import Trainer\n",
    "engine/distributed/__init__.py": "from . import cluster\n",
    "engine/distributed/cluster.py": "from ..core import UserError\n",
    "engine/selfplay.py": "from .alphazero.run import Run\nif __name__ == \"__main__\":\n    pass\n",
    "engine/ui/__init__.py": "from ..selfplay import main\n",
    "examples/__init__.py": "",
    "examples/train.py": "import nets\nfrom engine.core import UserError\n",
}

VIOLATIONS = [  # (file, import added, what the report must say)
    ("games/base.py", "from engine.core import UserError", "games.base imports engine.core: games imports nothing"),
    ("games/go/sgf.py", "def load():\n    from .game import Go", "import cycle: games.go.game -> games.go.sgf"),
    ("engine/core/errors.py", "from engine import cli", "engine.core.errors imports engine.cli: the core"),
    ("engine/core/errors.py", "import yaml", "engine.core.errors imports yaml: the core needs only"),
    ("nets/model.py", "from engine.cli import UserError", "nets.model imports engine.cli: nets imports only"),
    ("nets/model.py", "def f():\n    import games", "nets.model imports games: nets imports only"),
    ("engine/mcts/search.py", "def f():\n    from agents import mcts", "engine.mcts.search reaches agents.mcts"),
    ("engine/mcts/search.py", "import torch", "engine.mcts.search reaches torch (through engine.mcts.search)"),
    ("engine/mcts/tree.py", "from engine import config", "engine.mcts.search reaches engine.config: the search"),
    ("engine/mcts/tree.py", "import nets", "engine.mcts.search reaches nets: the search imports only"),
    ("engine/mcts/search.py", "from engine.dqn import trainer", "engine.mcts.search reaches engine.dqn.trainer"),
    ("agents/mcts.py", "from engine.alphazero.run import Run", "agents.mcts imports engine.alphazero.run: a player"),
    ("agents/mcts.py", "from engine import selfplay", "agents.mcts imports engine.selfplay: a player"),
    ("agents/mcts.py", "from engine.ui import main", "agents.mcts imports engine.ui: a player"),
    ("engine/dqn/trainer.py", "from engine import selfplay", "engine.dqn.trainer imports engine.selfplay: a learner"),
    ("engine/dqn/trainer.py", "from . import __main__", "engine.dqn.trainer imports engine.dqn.__main__: a learner"),
    ("engine/distributed/cluster.py", "from ..alphazero.run import Run",
     "import cycle: engine.alphazero.run -> engine.distributed.cluster"),
]


def _tree(root: Path, extra: tuple[str, str] | None = None) -> Path:
    for rel, text in CLEAN.items():
        if extra is not None and extra[0] == rel:
            text += extra[1] + "\n"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_a_tree_that_keeps_the_layers_passes(tmp_path):
    _tree(tmp_path)
    modules, graph, _ = import_graph(tmp_path)
    assert len(modules) == len(CLEAN)
    # the graph is what the files say: relative, lazy and package imports resolve to our modules
    assert graph["games.go.game"] == {"games.base", "games.go.sgf"}
    assert graph["games.go.sgf"] == set()  # its own parent package: already being imported
    assert graph["agents.mcts"] == {"engine.mcts", "nets"}
    assert graph["engine.dqn.__main__"] == {"engine.dqn.trainer"}
    assert check(tmp_path) == []


@pytest.mark.parametrize("file, line, message", VIOLATIONS, ids=[v[2].split(":")[0] for v in VIOLATIONS])
def test_a_violating_import_fails_the_contract(tmp_path, file, line, message):
    problems = check(_tree(tmp_path, (file, line)))
    assert any(p.startswith(message) for p in problems), problems


# ------------------------------------------------------------------------------ room sizes and private names
MAX_FILE_LINES = 700
MAX_FUNCTION_LINES = 100
SIZED = ("engine", "agents", "nets", "games")


def sizes(root: Path) -> list[str]:
    """Files over ``MAX_FILE_LINES`` and functions over ``MAX_FUNCTION_LINES`` in the sized packages."""
    problems = []
    for pkg in SIZED:
        for path in sorted((root / pkg).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            rel = path.relative_to(root)
            if text.count("\n") > MAX_FILE_LINES:
                problems.append(f"{rel}: {text.count(chr(10))} lines")
            for node in ast.walk(ast.parse(text, str(path))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    length = node.end_lineno - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        problems.append(f"{rel}:{node.lineno} {node.name}: {length} lines")
    return problems


def private_imports(root: Path) -> list[str]:
    """Imports of a private name (``_x``) from another module of ours, outside that module's own package."""
    modules, problems = _modules(root), []
    for module, path in modules.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] not in PACKAGES:
                continue
            is_file = base in modules and modules[base].name != "__init__.py"
            home_package = base.rpartition(".")[0] if is_file else base  # the package the name lives in
            for alias in node.names:
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                if private and not _within(module, [home_package]):
                    problems.append(f"{module} imports {base}.{alias.name}")
    return problems


def test_no_file_over_700_lines_and_no_function_over_100():
    assert sizes(ROOT) == []


def test_no_private_name_is_imported_from_another_package():
    assert private_imports(ROOT) == []


def test_the_size_and_private_import_checks_fail_on_a_violation(tmp_path):
    long_body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES + 1))
    (tmp_path / "engine" / "mcts").mkdir(parents=True)
    (tmp_path / "engine" / "__init__.py").write_text("")
    (tmp_path / "engine" / "mcts" / "__init__.py").write_text("")
    (tmp_path / "engine" / "mcts" / "search.py").write_text(f"def _entry():\n    pass\n\n\ndef big():\n{long_body}\n")
    (tmp_path / "engine" / "mcts" / "kernels.py").write_text("from .search import _entry\n")
    (tmp_path / "engine" / "worker.py").write_text("from .mcts.search import _entry\n")
    assert sizes(tmp_path) == [f"engine/mcts/search.py:5 big: {MAX_FUNCTION_LINES + 2} lines"]
    assert private_imports(tmp_path) == ["engine.worker imports engine.mcts.search._entry"]
