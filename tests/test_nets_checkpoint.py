"""Checkpoints: bit-exact round trips, resuming training identically, and clear errors for bad files."""

from __future__ import annotations

import random
import zipfile

import numpy as np
import pytest
import torch

import nets
from engine.cli import UserError
from nets import CheckpointError

# torch.compile's first import warns about torch's own use of torch.jit.script_method.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")

MODELS = {
    "policy_value_resnet": ({"name": "policy_value", "plane_shape": [3, 5, 5], "num_actions": 26, "blocks": 2,
                             "channels": 8, "se_ratio": 2, "global_pool_channels": 2, "value_hidden": 8},
                            lambda: torch.randn(3, 3, 5, 5)),
    "policy_value_transformer": ({"name": "policy_value", "plane_shape": [3, 4, 4], "num_actions": 16,
                                  "trunk": "transformer", "blocks": 2, "channels": 8, "attention_heads": 2,
                                  "wdl": True}, lambda: torch.randn(3, 3, 4, 4)),
    "gpt": ({"name": "gpt", "vocab_size": 13, "max_len": 8, "dim": 8, "depth": 2, "heads": 2},
            lambda: torch.randint(0, 13, (2, 8))),
    "rnn_lm": ({"name": "rnn_lm", "vocab_size": 13, "cell": "lstm", "embed_dim": 6, "hidden": 6, "layers": 2,
                "tie_weights": True}, lambda: torch.randint(0, 13, (2, 7))),
    "lenet": ({"name": "lenet"}, lambda: torch.rand(2, 1, 28, 28)),
    "dqn_dueling": ({"name": "net", "backbone": {"name": "nature_cnn", "in_shape": [4, 84, 84], "hidden": 0},
                     "head": {"name": "dueling_q", "num_actions": 6, "hidden": 16}},
                    lambda: torch.randint(0, 256, (2, 4, 84, 84), dtype=torch.uint8)),
    "c51_mlp": ({"name": "net", "backbone": {"name": "mlp", "in_shape": 4, "widths": [8], "norm": "batch"},
                 "head": {"name": "c51", "num_actions": 2, "atoms": 5}}, lambda: torch.randn(3, 4)),
}


def _outputs(model, x):
    out = model(x)
    return out if isinstance(out, tuple) else (out,)


def _train_a_little(model, x, steps=2):
    """Move BatchNorm statistics and weights away from their initial values."""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(steps):
        out = _outputs(model, x)
        loss = sum(o.float().pow(2).mean() for o in out if isinstance(o, torch.Tensor) and o.is_floating_point())
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_load_round_trip_is_bit_exact(tmp_path, name):
    torch.manual_seed(0)
    config, make_input = MODELS[name]
    model = nets.build_model(config)
    x = make_input()
    _train_a_little(model, x)
    model.eval()
    path = nets.save_checkpoint(tmp_path / "ckpt.pt", model, step=7, metadata={"game": "go9", "elo": 123.5})
    rebuilt, ckpt = nets.load_model(path)
    assert ckpt.step == 7 and ckpt.metadata["game"] == "go9" and ckpt.metadata["elo"] == 123.5
    assert ckpt.metadata["parameters"] == nets.num_parameters(model)
    assert rebuilt.config == model.config
    assert not rebuilt.training
    with torch.no_grad():
        for a, b in zip(_outputs(model, x), _outputs(rebuilt, x), strict=True):
            if isinstance(a, torch.Tensor):
                assert torch.equal(a, b)
            elif isinstance(a, tuple):  # recurrent state
                assert all(torch.equal(p, q) for p, q in zip(a, b, strict=True))
    # into an existing model of the same architecture, too
    other = nets.build_model(config)
    nets.load_checkpoint(path, other)
    for (k, v), (k2, v2) in zip(model.state_dict().items(), other.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(v, v2)


def test_file_loads_with_weights_only_and_has_the_documented_layout(tmp_path):
    model = nets.PolicyValueNet((2, 3, 3), 9, blocks=1, channels=4)
    opt = torch.optim.Adam(model.parameters())
    opt.zero_grad()
    logits, value = model(torch.randn(2, 2, 3, 3))
    (logits.sum() + value.sum()).backward()
    opt.step()
    nets.save_checkpoint(tmp_path / "c.pt", model, opt, step=1, generators={"np": np.random.default_rng(1)},
                         extra={"replay_size": np.int64(5), "epsilon": 0.1})
    data = torch.load(tmp_path / "c.pt", weights_only=True)
    assert data["format"] == "rlengine-checkpoint" and data["version"] == 1
    assert set(data) == {"format", "version", "config", "model", "optimizer", "scheduler", "step", "rng",
                         "metadata", "extra"}
    assert data["config"]["name"] == "policy_value" and data["config"]["plane_shape"] == [2, 3, 3]
    assert set(data["rng"]) >= {"python", "numpy", "torch", "cuda", "generators"}
    assert data["extra"] == {"replay_size": 5, "epsilon": 0.1}
    assert len(data["optimizer"]["state"]) == len(list(model.parameters()))


def test_compiled_wrapper_saves_plain_keys(tmp_path):
    model = nets.PolicyValueNet((2, 3, 3), 9, blocks=1, channels=4)
    wrapped = torch.compile(model)  # not run: compiling is slow on the CPU; the wrapper is what matters here
    nets.save_checkpoint(tmp_path / "c.pt", wrapped)
    keys = torch.load(tmp_path / "c.pt", weights_only=True)["model"].keys()
    assert not any(k.startswith("_orig_mod") for k in keys)
    nets.load_checkpoint(tmp_path / "c.pt", torch.compile(nets.PolicyValueNet((2, 3, 3), 9, blocks=1, channels=4)))


# ------------------------------------------------------------------------------------------------- resume
def _train(model, opt, sched, steps, gen):
    """A training loop drawing from every random source a real one uses."""
    for _ in range(steps):
        idx = np.random.randint(0, 100, size=4)            # global NumPy (replay sampling)
        noise = random.random()                            # Python random
        jitter = gen.normal(size=(4, 6)).astype(np.float32)  # a named Generator
        x = torch.from_numpy(jitter) + torch.tensor(idx, dtype=torch.float32)[:, None] / 100 + noise
        loss = model(x).pow(2).mean() + torch.randn(()) * 0  # dropout inside uses the torch generator
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()


def _fresh(seed):
    torch.manual_seed(seed)
    model = nets.build_model({"name": "net", "backbone": {"name": "mlp", "in_shape": 6, "widths": [16, 16],
                                                          "dropout": 0.5},
                              "head": {"name": "q", "num_actions": 3}})
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


def test_resume_continues_training_identically(tmp_path):
    random.seed(1)
    np.random.seed(1)
    gen = np.random.default_rng(1)
    model, opt, sched = _fresh(1)
    _train(model, opt, sched, 3, gen)
    nets.save_checkpoint(tmp_path / "c.pt", model, opt, step=3, scheduler=sched, generators={"data": gen})
    _train(model, opt, sched, 4, gen)
    uninterrupted = {k: v.clone() for k, v in model.state_dict().items()}

    # A new process: different seeds everywhere, then resume.
    random.seed(99)
    np.random.seed(99)
    gen2 = np.random.default_rng(99)
    model2, opt2, sched2 = _fresh(99)
    ckpt = nets.load_checkpoint(tmp_path / "c.pt", model2, opt2, scheduler=sched2, restore_rng_state=True,
                                generators={"data": gen2})
    assert ckpt.step == 3
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] * 4  # two more halvings happened since
    _train(model2, opt2, sched2, 4, gen2)
    for k, v in model2.state_dict().items():
        assert torch.equal(v, uninterrupted[k]), k


def test_rng_restore_covers_numba_generator(tmp_path):
    numba = pytest.importorskip("numba")

    @numba.njit
    def draw():
        return np.random.random()

    draw()
    state = nets.capture_rng()
    first = [draw() for _ in range(3)]
    nets.restore_rng(state)
    assert [draw() for _ in range(3)] == first


# ------------------------------------------------------------------------------------------------- errors
def _small(channels=4, blocks=1):
    return nets.PolicyValueNet((2, 3, 3), 9, blocks=blocks, channels=channels)


def test_mismatched_architecture_names_the_difference(tmp_path):
    nets.save_checkpoint(tmp_path / "c.pt", _small(channels=4))
    with pytest.raises(CheckpointError, match=r"another architecture: checkpoint has channels=4; model has channels=8"):
        nets.load_checkpoint(tmp_path / "c.pt", _small(channels=8))


def test_mismatched_weights_name_the_tensors(tmp_path):
    model = _small()
    model.config = None  # a model without an architecture record: the tensors are checked
    nets.save_checkpoint(tmp_path / "c.pt", model)
    other = _small(channels=6)
    other.config = None
    with pytest.raises(CheckpointError, match=r"does not fit .*shape mismatches \(trunk.stem.0.weight: checkpoint "
                                              r"\(4, 2, 3, 3\) vs model \(6, 2, 3, 3\)"):
        nets.load_checkpoint(tmp_path / "c.pt", other)
    deeper = _small(blocks=2)
    deeper.config = None
    with pytest.raises(CheckpointError, match=r"tensors missing \(trunk.blocks.1"):
        nets.load_checkpoint(tmp_path / "c.pt", deeper)
    with pytest.raises(CheckpointError, match="no architecture config"):
        nets.load_model(tmp_path / "c.pt")


def test_bad_files_fail_with_a_clear_error(tmp_path):
    good = tmp_path / "good.pt"
    nets.save_checkpoint(good, _small())
    data = good.read_bytes()

    with pytest.raises(CheckpointError, match="does not exist"):
        nets.read_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="is empty"):
        nets.read_checkpoint(tmp_path / "empty.pt")
    for cut in (len(data) // 2, len(data) - 10, 100):
        (tmp_path / "cut.pt").write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="corrupt or truncated"):
            nets.load_model(tmp_path / "cut.pt")
    (tmp_path / "text.pt").write_text("this is not a checkpoint\n")
    with pytest.raises(CheckpointError, match="text.pt"):
        nets.read_checkpoint(tmp_path / "text.pt")
    torch.save(_small().state_dict(), tmp_path / "bare.pt")
    with pytest.raises(CheckpointError, match="not an rlengine checkpoint .*bare state_dict"):
        nets.read_checkpoint(tmp_path / "bare.pt")
    torch.save({"format": "rlengine-checkpoint", "version": 99, "config": None, "model": {}, "step": 0},
               tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="layout version 99"):
        nets.read_checkpoint(tmp_path / "future.pt")
    torch.save({"format": "rlengine-checkpoint", "version": 1, "obj": zipfile.ZipInfo("x")}, tmp_path / "code.pt")
    with pytest.raises(CheckpointError, match="objects other than tensors"):
        nets.read_checkpoint(tmp_path / "code.pt")
    # a byte flipped inside the archive
    flipped = bytearray(data)
    flipped[len(flipped) // 3] ^= 0xFF
    (tmp_path / "flipped.pt").write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="corrupt"):
        nets.load_model(tmp_path / "flipped.pt")
    assert issubclass(CheckpointError, UserError)


def test_optimizer_and_rng_missing_are_errors(tmp_path):
    model = _small()
    nets.save_checkpoint(tmp_path / "c.pt", model, rng=False)
    with pytest.raises(CheckpointError, match="no optimizer state"):
        nets.load_checkpoint(tmp_path / "c.pt", model, torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(CheckpointError, match="without random generator states"):
        nets.load_checkpoint(tmp_path / "c.pt", model, restore_rng_state=True)


def test_unstorable_values_are_refused_before_writing(tmp_path):
    with pytest.raises(CheckpointError, match=r"metadata.when: a object cannot be stored"):
        nets.save_checkpoint(tmp_path / "c.pt", _small(), metadata={"when": object()})
    assert not list(tmp_path.iterdir())


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    first = _small()
    nets.save_checkpoint(path, first, step=1)
    before = path.read_bytes()

    def crash(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        nets.save_checkpoint(path, _small(), step=2)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left behind


def test_commands_report_a_bad_checkpoint_as_one_line(tmp_path, capsys):
    from engine.cli import run_main

    (tmp_path / "bad.pt").write_text("garbage")

    def main(argv):
        nets.load_model(tmp_path / "bad.pt")

    with pytest.raises(SystemExit) as exit_info:
        run_main(main, [])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and "bad.pt is not an rlengine checkpoint" in err
