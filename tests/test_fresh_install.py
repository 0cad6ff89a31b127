"""A fresh install: the Quick start environment (no extras) and commands run from any directory.

The optional dependencies (ale-py for Atari, Ray) are made impossible to import in a subprocess by a meta-path
finder put first on ``sys.meta_path``, as if the extra had never been installed; the commands run in a temporary
directory, far from the repository's files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import ROOT

PROGRAMS = sorted([p.stem for p in (ROOT / "engine").glob("*.py")
                   if p.stem != "__init__" and 'if __name__ == "__main__"' in p.read_text()]
                  + [p.parent.name for p in (ROOT / "engine").glob("*/__main__.py")])  # packages: dqn, gtp, uci ...

_BLOCKING = textwrap.dedent("""
    import importlib.abc, runpy, sys

    class _NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {blocked!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, _NotInstalled())
    for module in {blocked!r}:
        sys.modules.pop(module, None)
""")


def run_without(blocked: tuple[str, ...], module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m module args`` in ``cwd`` with the modules of ``blocked`` not importable."""
    code = _BLOCKING.format(blocked=blocked) + textwrap.dedent(f"""
        sys.argv = [{module!r}, *{list(args)!r}]
        runpy.run_module({module!r}, run_name="__main__", alter_sys=True)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900)


def test_the_blocker_really_hides_the_extras(tmp_path):
    proc = subprocess.run([sys.executable, "-c", _BLOCKING.format(blocked=("ale_py", "ray")) + "import ale_py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "No module named 'ale_py'" in proc.stderr


def test_every_command_help_runs_without_the_extras(tmp_path):
    """Every ``python -m engine.X --help`` in one process (they import the same libraries) without ale-py or Ray."""
    code = _BLOCKING.format(blocked=("ale_py", "ray")) + textwrap.dedent(f"""
        import contextlib, io
        for name in {PROGRAMS!r}:
            sys.argv = ["engine." + name, "--help"]
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    runpy.run_module("engine." + name, run_name="__main__", alter_sys=True)
            except SystemExit as stop:
                assert stop.code in (0, None), (name, stop.code)
            assert "python -m engine." + name in out.getvalue() or "usage" in out.getvalue().lower(), name
            print("ok", name)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == [w for name in PROGRAMS for w in ("ok", name)]
    assert len(PROGRAMS) >= 10 and "dqn" in PROGRAMS and "selfplay" in PROGRAMS


def test_dqn_cartpole_runs_without_atari_or_ray_from_any_directory(tmp_path):
    """The Quick start's DQN command: no ale-py needed for CartPole, and its default config found from a folder
    that holds no ``configs/``."""
    proc = run_without(("ale_py", "ray"), "engine.dqn", "--env", "CartPole-v1", "--seed", "3", "--json",
                       "--no-progress", "--run-dir", "run", "train.total_steps=300", "train.learning_starts=100",
                       "train.train_every=100", "train.gradient_steps=2", "eval.every=0", "eval.episodes=1",
                       "run.tensorboard=false", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["env"] == "CartPole-v1" and summary["steps"] == 300 and summary["updates"] == 6
    assert (tmp_path / "run" / "checkpoint.pt").is_file()


@pytest.mark.parametrize("module, args, extra", [
    ("engine.dqn", ("--env", "ALE/Pong-v5"), "atari"),
    ("engine.dqn", ("--env", "PongNoFrameskip-v4", "--config", "dqn_atari"), "atari"),
    ("engine.dqn", ("--env", "CartPole-v1", "--ray"), "ray"),
    ("engine.selfplay", ("--config", "tictactoe", "--ray", "--out", "runs/x"), "ray"),
])
def test_a_missing_extra_is_one_line_and_leaves_no_run_folder(tmp_path, module, args, extra):
    proc = run_without(("ale_py", "ray"), module, *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and f'pip install -e ".[{extra}]"' in lines[0], lines
    assert list(tmp_path.iterdir()) == []  # no runs/ folder, nothing else


def test_configs_are_found_by_name_or_path_from_any_directory(tmp_path, monkeypatch):
    from engine import configs
    from engine.config import ConfigError, find_config

    monkeypatch.chdir(tmp_path)
    assert {"connect4", "go9", "tictactoe", "dqn_cartpole", "dqn_atari"} <= set(configs.names())
    for text in ("go9", "go9.yaml", "configs/go9.yaml"):
        assert find_config(text) == configs.DIR / "go9.yaml"
    (tmp_path / "go9.yaml").write_text("run: {iterations: 1}\n")
    assert find_config("go9.yaml") == Path("go9.yaml")  # a file of that name here wins
    with pytest.raises(ConfigError, match="does not exist.*shipped configs: .*connect4"):
        find_config("nonesuch")
    with pytest.raises(ConfigError, match="does not exist"):
        find_config("elsewhere/go9.yaml")  # a path into another folder is never a shipped name


def test_the_configs_ship_with_the_package():
    tomllib = pytest.importorskip("tomllib")

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "*.yaml" in project["package-data"]["*"]
    assert any(pattern.rstrip("*") and "engine.configs".startswith(pattern.rstrip("*"))
               for pattern in project["packages"]["find"]["include"])
    assert (ROOT / "engine" / "configs" / "__init__.py").is_file()  # a package, so package-data applies
    assert not (ROOT / "configs").exists()  # one home: nothing left at the top level to drift


def test_a_failed_example_run_leaves_no_run_folder(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "examples.mnist", "--run-dir", str(tmp_path / "run"), "--lr", "-1"],
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "lr must be > 0" in proc.stderr
    assert not (tmp_path / "run").exists()
