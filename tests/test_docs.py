"""The documentation runs as written: every command, flag, config key, link and Python name it shows exists.

What is checked, for README.md and every docs/*.md (cheaply: nothing is trained, searched or compiled):

- **Commands** in ```bash blocks: each ``python -m engine.* ...`` / ``python -m examples.* ...`` line (also inside
  ``gtp:...`` / ``uci:...`` agent specs) is run in one helper process through the module's own ``main(argv)``
  with ``argparse`` stopped right after parsing: the module must exist, the documented line must parse (every
  flag, choice and value), the line with ``--help`` appended must print its help, and ``key=value`` overrides
  of ``engine.selfplay`` / ``engine.dqn`` must name config keys that exist.
- **Links**: every relative link (and ``#anchor``) points to a file (and heading) that exists.
- **Paths** in backticks (``engine/mcts/_core.py``, ``configs/go9.yaml``) exist in the repository.
- **Python blocks** compile, their imports run, and dotted names rooted at an imported module resolve
  (``nets.PolicyValueNet.from_config``).

A synthetic page with a wrong module, flag, choice, config key, link and name shows the checks fail.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
OUR_PACKAGES = ("engine.", "examples.")
REPO_DIRS = ("engine/", "agents/", "games/", "nets/", "configs/", "examples/", "tests/", "docs/", ".ci/")

# Pages that branches being merged now add (precision: performance.md, supervised learning: supervised.md); a link
# to one of them is checked once the page exists. Empty this set when both are on main.

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


# ------------------------------------------------------------------------------------------ reading the pages
def code_blocks(text: str, languages: tuple[str, ...]) -> list[str]:
    return [body for lang, body in _FENCE.findall(text) if lang in languages]


def shell_lines(block: str) -> list[str]:
    """The block's logical lines: backslash continuations joined."""
    return block.replace("\\\n", " ").splitlines()


def python_commands(line: str) -> list[tuple[str, list[str]]]:
    """Every ``python -m MODULE ARGS`` of one shell line, with the modules run inside ``gtp:`` / ``uci:`` specs.

    A line is cut into simple commands at ``|``, ``;``, ``&&``, redirections and ``{ }``; leading ``VAR=value``
    assignments are skipped; ``# comments`` are dropped.
    """
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError as err:  # an unbalanced quote: the line is not valid shell
        raise AssertionError(f"cannot split the shell line {line!r}: {err}") from None
    commands, current = [], []
    for token in [*tokens, ";"]:
        if token and all(c in "|;&<>()" for c in token) or token in ("{", "}"):
            if current:
                commands.append(current)
            current = []
        else:
            current.append(token)
    found = []
    for words in commands:
        while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
            words = words[1:]
        if len(words) >= 3 and re.fullmatch(r"python3?", words[0]) and words[1] == "-m":
            found.append((words[2], words[3:]))
        for word in words:  # an agent spec that runs one of our programs: "gtp:python -m engine.gtp --time 2"
            spec = re.match(r"(gtp|uci):(python3? -m .*)", word)
            if spec:
                program = spec.group(2).split(";")[0] if spec.group(1) == "uci" else spec.group(2)
                found.extend(python_commands(program))
    return found


def commands_in_text(text: str) -> list[tuple[str, list[str]]]:
    """(module, argv) of every command of ours in a page's shell blocks."""
    return [(module, argv) for block in code_blocks(text, ("bash", "sh", "shell", "console"))
            for line in shell_lines(block) for module, argv in python_commands(line)
            if module.startswith(OUR_PACKAGES)]


def documented_commands(pages=PAGES) -> list[tuple[str, str, list[str]]]:
    """(page, module, argv) for every command of ours in the pages, each distinct line once."""
    seen, out = set(), []
    for page in pages:
        for module, argv in commands_in_text(page.read_text(encoding="utf-8")):
            if (module, tuple(argv)) not in seen:
                seen.add((module, tuple(argv)))
                out.append((page.name, module, argv))
    return out


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return {_slug(m) for m in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)}


def broken_links(page: Path) -> list[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    bad = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            bad.append(f"{page.name}: link to {target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            bad.append(f"{page.name}: link to {target}: no heading #{anchor} in {file.name}")
    return bad


def missing_paths(page: Path) -> list[str]:
    """Repository paths named in backticks (outside code blocks) that do not exist."""
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    bad = []
    for span in _CODE_SPAN.findall(text):
        for word in span.split():
            word = word.rstrip(".,:;)")
            if word.startswith(REPO_DIRS) and re.fullmatch(r"[\w./-]+", word) and "NNNN" not in word:
                if not (ROOT / word).exists():
                    bad.append(f"{page.name}: `{word}` does not exist")
    return bad


def shared_data_paths(page: Path) -> list[str]:
    """Commands must not need the developers' ../shared/data, which a clone of the repository does not have."""
    return [f"{page.name}: {word}" for _, argv in commands_in_text(page.read_text(encoding="utf-8"))
            for word in argv if "../shared" in word]


def python_name_errors(block: str) -> list[str]:
    """Compile a Python block, run its imports, resolve the dotted names that start at an imported module."""
    try:
        tree = ast.parse(block)
    except SyntaxError as err:
        return [f"syntax error: {err}"]
    namespace: dict = {}
    errors = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            try:
                exec(compile(ast.Module([node], []), "<docs>", "exec"), namespace)
            except ImportError as err:
                errors.append(f"{ast.unparse(node)}: {err}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain = []
        inner = node
        while isinstance(inner, ast.Attribute):
            chain.append(inner.attr)
            inner = inner.value
        if not isinstance(inner, ast.Name) or not isinstance(namespace.get(inner.id), type(ast)):
            continue
        obj, dotted = namespace[inner.id], inner.id
        for attr in reversed(chain):
            if not isinstance(obj, type(ast)) and not isinstance(obj, type):
                break  # an instance or function: its attributes are not checked
            dotted += "." + attr
            try:
                obj = getattr(obj, attr) if hasattr(obj, attr) else importlib.import_module(dotted)
            except ImportError:
                errors.append(f"{dotted} does not exist")
                break
    return sorted(set(errors))


# ------------------------------------------------------------------------- running the commands' parsers
class _Parsed(Exception):
    def __init__(self, namespace):
        super().__init__("parsed")
        self.namespace = namespace


def _stop_after_parsing(original):
    def parse(self, *args, **kwargs):
        raise _Parsed(original(self, *args, **kwargs))

    return parse


def _config_errors(module: str, args) -> str | None:
    """The config keys of a command's ``key=value`` overrides must exist (checked without running anything)."""
    overrides = [o for o in getattr(args, "overrides", None) or [] if "=" in o]
    if module == "engine.selfplay":
        from engine.alphazero import make_config

        make_config(None if args.resume else args.config, overrides)
    elif module == "engine.dqn" and hasattr(args, "overrides"):
        from engine.config import load_config
        from engine.dqn.config import DQNConfig

        if args.resume:
            load_config(DQNConfig, None, overrides)
        else:
            atari = (args.env or "").startswith("ALE/")
            default = "dqn_atari" if atari else "dqn_cartpole"  # shipped configs, by name
            load_config(DQNConfig, args.config or default, overrides)
    return None


def check_command(module: str, argv: list[str]) -> str | None:
    """None when ``python -m module argv`` exists, parses, has help and valid overrides; else what is wrong."""
    import argparse

    try:
        mod = importlib.import_module(module)
        if not hasattr(mod, "main") and hasattr(mod, "__path__"):  # a package runs its __main__
            mod = importlib.import_module(module + ".__main__")
    except ImportError as err:
        return f"no module {module}: {err}"
    if not callable(getattr(mod, "main", None)):
        return f"{module} has no main(argv)"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            mod.main([*argv, "--help"])
        except SystemExit as stop:
            if stop.code not in (0, None):
                return f"--help appended: exit {stop.code}: {out.getvalue().strip()[-300:]}"
        except Exception as err:  # noqa: BLE001 - any failure is the finding
            return f"--help appended: {type(err).__name__}: {err}"
    if not out.getvalue().strip():
        return "--help appended printed nothing"
    patches = {"parse_args": argparse.ArgumentParser.parse_args,
               "parse_intermixed_args": argparse.ArgumentParser.parse_intermixed_args}
    out = io.StringIO()
    try:
        for name, original in patches.items():
            setattr(argparse.ArgumentParser, name, _stop_after_parsing(original))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            mod.main(list(argv))
        if "--help" in argv or "-h" in argv:
            return None  # a help of its own (engine.bench lists the benchmarks)
        return f"{module} {' '.join(argv)}: returned without parsing its arguments"
    except _Parsed as parsed:
        try:
            return _config_errors(module, parsed.namespace)
        except Exception as err:  # noqa: BLE001
            return f"{type(err).__name__}: {err}"
    except SystemExit as stop:
        return f"exit {stop.code}: {out.getvalue().strip()[-300:]}"
    except Exception as err:  # noqa: BLE001
        return f"{type(err).__name__}: {err}"
    finally:
        for name, original in patches.items():
            setattr(argparse.ArgumentParser, name, original)


def _check_all_stdin() -> None:
    """Helper process: read [[module, argv], ...] on stdin, print one JSON list of results."""
    results = [check_command(module, argv) for module, argv in json.load(sys.stdin)]
    print("\n" + json.dumps(results))


def run_checks(commands: list[tuple[str, list[str]]]) -> list[str | None]:
    """Check all commands in one fresh process (importing the programs is the cost: once, not per line)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", "from tests.test_docs import _check_all_stdin; _check_all_stdin()"],
                          input=json.dumps([[m, a] for m, a in commands]), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------ the tests
COMMANDS = documented_commands()

SYNTHETIC = """\
# Page

See [the search](search.md#no-such-heading), [gone](no-such-page.md), [here](#page) and `engine/no_such_file.py`.

```bash
python -m engine.perft connect4 --depth 2                         # fine
python -m engine.perft connect4 --no-such-flag 2
python -m examples.mnist --model resnet
python -m engine.no_such_program --help
printf 'quit\\n' | python -m engine.gtp --simulations many
python -m engine.selfplay mcts.no_such_key=3
python -m engine.arena go "gtp:python -m engine.gtp --bogus" random
python -m engine.c4eval --agent random --set ../shared/data/connect4/Test_L3_R1
```

```python
import nets
net = nets.NoSuchNet(3)
nets.PolicyValueNet.from_config
```
"""


@pytest.fixture(scope="module")
def command_results() -> dict:
    """Every documented command and the synthetic page's, checked in one process."""
    commands = [(m, a) for _, m, a in COMMANDS] + commands_in_text(SYNTHETIC)
    results = run_checks(commands)
    return {(m, tuple(a)): r for (m, a), r in zip(commands, results, strict=True)}


def test_the_docs_show_commands():
    modules = {m for _, m, _ in COMMANDS}
    assert {"engine.selfplay", "engine.play", "engine.gtp", "engine.uci", "engine.dqn"} <= modules
    assert any(m.startswith("examples.") for m in modules)


@pytest.mark.parametrize(("page", "module", "argv"), COMMANDS,
                         ids=[f"{p}:{m} {' '.join(a)}"[:90] for p, m, a in COMMANDS])
def test_documented_command_parses(command_results, page, module, argv):
    problem = command_results[(module, tuple(argv))]
    assert problem is None, f"{page}: python -m {module} {shlex.join(argv)}: {problem}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_and_paths_exist(page):
    assert broken_links(page) + missing_paths(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_commands_need_no_shared_data(page):
    assert shared_data_paths(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_blocks_name_what_exists(page):
    errors = [f"{page.name}: {e}" for block in code_blocks(page.read_text(encoding="utf-8"), ("python",))
              for e in python_name_errors(block)]
    assert errors == []


def test_readme_test_command_is_the_one_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("pip install")]
    assert ci_lines and all(line in readme for line in ci_lines), ci_lines
    lines = len(readme.splitlines())
    assert lines <= 260, f"README.md has {lines} lines: it is an entry page; reference material goes in docs/"


def test_the_checks_fail_on_a_synthetic_page(tmp_path, command_results):
    docs = tmp_path / "docs"
    docs.mkdir()
    page = docs / "page.md"
    page.write_text(SYNTHETIC, encoding="utf-8")
    (docs / "search.md").write_text("# Search\n", encoding="utf-8")
    commands = [(m, a) for _, m, a in documented_commands([page])]
    assert commands == [
        ("engine.perft", ["connect4", "--depth", "2"]),
        ("engine.perft", ["connect4", "--no-such-flag", "2"]),
        ("examples.mnist", ["--model", "resnet"]),
        ("engine.no_such_program", ["--help"]),
        ("engine.gtp", ["--simulations", "many"]),
        ("engine.selfplay", ["mcts.no_such_key=3"]),
        ("engine.arena", ["go", "gtp:python -m engine.gtp --bogus", "random"]),
        ("engine.gtp", ["--bogus"]),
        ("engine.c4eval", ["--agent", "random", "--set", "../shared/data/connect4/Test_L3_R1"]),
    ]
    results = [command_results[(m, tuple(a))] for m, a in commands]
    assert results[0] is None                                      # the good line passes
    assert "unrecognized arguments: --no-such-flag" in results[1]
    assert "invalid choice: 'resnet'" in results[2]
    assert "no module engine.no_such_program" in results[3]
    assert "invalid int value: 'many'" in results[4]
    assert "no_such_key" in results[5]
    assert results[6] is None                                      # the arena line itself is fine ...
    assert "unrecognized arguments: --bogus" in results[7]         # ... the GTP program inside it is not
    assert results[8] is None                                      # it parses, but a user has no ../shared:
    assert shared_data_paths(page) == ["page.md: ../shared/data/connect4/Test_L3_R1"]
    assert broken_links(page) == ["page.md: link to search.md#no-such-heading: no heading #no-such-heading in "
                                  "search.md", "page.md: link to no-such-page.md: no such file"]
    assert missing_paths(page) == ["page.md: `engine/no_such_file.py` does not exist"]
    python_block = code_blocks(SYNTHETIC, ("python",))[0]
    assert python_name_errors(python_block) == ["nets.NoSuchNet does not exist"]
