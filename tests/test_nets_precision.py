"""Precision settings (auto / fp32 / bf16), BatchNorm folding, the bf16 evaluator and the bf16 learner."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nets
from engine.cli import UserError
from nets import PolicyValueEvaluator
from nets import precision as P


def _trained(plane_shape=(3, 5, 5), actions=26, **arch):
    """A small net after a few SGD steps, so BatchNorm's running statistics and affine terms are not trivial."""
    torch.manual_seed(0)
    model = nets.PolicyValueNet(plane_shape, actions, channels=16, value_hidden=16, **{"blocks": 2, **arch})
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(5):
        logits, value = model(torch.randn(16, *plane_shape) * 2 + 0.5)
        loss = logits.logsumexp(-1).mean() + (value - 0.3).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def _positions(n, shape=(3, 5, 5), actions=26, seed=0):
    rng = np.random.default_rng(seed)
    planes = (rng.random((n, *shape)) < 0.4).astype(np.float32)   # 0/1 planes, as the games encode them
    legal = rng.random((n, actions)) < 0.6
    legal[:, 0] = True
    return planes, legal


# ------------------------------------------------------------------------------------------- the setting
def test_a_bad_precision_is_a_one_line_error_listing_the_valid_ones():
    with pytest.raises(UserError) as err:
        P.check_precision("fp16")
    assert str(err.value) == "precision must be one of auto, fp32, bf16, got 'fp16'"
    with pytest.raises(UserError, match="auto, fp32, bf16"):
        PolicyValueEvaluator(_trained(), device="cpu", precision="half")


def test_cpu_flags_are_read_not_guessed(tmp_path):
    P.cpu_bf16_flags.cache_clear()
    amd = tmp_path / "amd"
    amd.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 avx512_vnni\n")
    sapphire = tmp_path / "spr"
    sapphire.write_text("flags\t\t: avx2 avx512f amx_bf16 amx_tile\n")
    avx2 = tmp_path / "avx2"
    avx2.write_text("flags\t\t: fpu sse avx avx2 fma\n")
    arm = tmp_path / "arm"
    arm.write_text("processor\t: 0\nFeatures\t: fp asimd bf16 i8mm\n")
    assert P.cpu_bf16_flags(str(amd)) == ("avx512_bf16",)
    assert P.cpu_bf16_flags(str(sapphire)) == ("amx_bf16",)
    assert P.cpu_bf16_flags(str(avx2)) == ()
    assert P.cpu_bf16_flags(str(arm)) == ("bf16",)
    assert P.cpu_bf16_flags(str(tmp_path / "missing")) == ()


@pytest.mark.parametrize("flags, expected", [((), "fp32"), (("avx512_bf16",), "bf16"), (("amx_bf16",), "bf16")])
def test_auto_takes_bf16_only_where_the_cpu_has_it(monkeypatch, flags, expected):
    monkeypatch.setattr(P, "cpu_bf16_flags", lambda: flags)
    assert P.resolve_precision("auto", "cpu") == expected
    assert P.resolve_precision("fp32", "cpu") == "fp32"
    assert P.resolve_precision("bf16", "cpu") == "bf16"       # asked for: runs (emulated if it must)
    net = _trained()
    evaluator = PolicyValueEvaluator(net, device="cpu")
    assert evaluator.precision == expected
    dtypes = {p.dtype for p in evaluator.model.parameters()}
    assert dtypes == {torch.bfloat16 if expected == "bf16" else torch.float32}
    assert all(p.dtype == torch.float32 for p in net.parameters())  # the caller's network is never converted


# ------------------------------------------------------------------------------------------- folding
@pytest.mark.parametrize("arch", [{}, {"se_ratio": 4, "global_pool_channels": 4}])
def test_folded_batchnorm_gives_the_same_outputs(arch):
    net = _trained(**arch)
    folded = P.fold_batchnorm(net)
    before = sum(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    after = sum(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    # every conv->BN pair is folded; KataGo's pooled bias sits between conv1 and bn1, which stay
    assert after == (0 if not arch else 2) and before > after
    x = torch.from_numpy(_positions(32)[0])
    with torch.inference_mode():
        ref_logits, ref_value = net(x)
        logits, value = folded(x)
    assert torch.allclose(logits, ref_logits, atol=1e-4, rtol=1e-4)
    assert torch.allclose(value, ref_value, atol=1e-5)
    assert folded is not net and any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())


def test_folding_leaves_a_net_without_batchnorm_alone():
    net = nets.PolicyValueNet((3, 4, 4), 17, trunk="transformer", blocks=1, channels=8, attention_heads=2,
                              value_hidden=8)
    assert P.fold_batchnorm(net) is net


def test_folded_evaluator_takes_new_weights_and_matches_unfolded():
    net, other = _trained(), _trained()
    with torch.no_grad():
        for p in other.parameters():
            p.mul_(1.3)
    planes, legal = _positions(9)
    folded = PolicyValueEvaluator(net, device="cpu", precision="fp32")
    folded.load_state_dict(other.state_dict())
    plain = PolicyValueEvaluator(other, device="cpu", precision="fp32", fold_bn=False)
    (a_logits, a_value), (b_logits, b_value) = folded(planes, legal), plain(planes, legal)
    assert np.allclose(a_logits[legal], b_logits[legal], atol=1e-4) and np.allclose(a_value, b_value, atol=1e-5)


# ------------------------------------------------------------------------------------------- bf16 inference
def _probabilities(logits):
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def test_bf16_evaluator_is_close_to_fp32():
    net = _trained()
    planes, legal = _positions(64)
    fp32 = PolicyValueEvaluator(net, device="cpu", precision="fp32")
    bf16 = PolicyValueEvaluator(net, device="cpu", precision="bf16")
    (l32, v32), (l16, v16) = fp32(planes, legal), bf16(planes, legal)
    assert l16.dtype == np.float32 and v16.dtype == np.float32 and l16.shape == l32.shape
    assert (l16[~legal] == np.float32(nets.ILLEGAL_LOGIT)).all()
    p32, p16 = _probabilities(l32), _probabilities(l16)
    assert np.abs(p16 - p32).max() < 0.02                 # priors: bf16 keeps 8 bits of mantissa
    assert np.abs(v16 - v32).max() < 0.03
    assert not np.array_equal(v16, v32)                   # it really ran in bf16


# ------------------------------------------------------------------------------------------- bf16 learner
def test_bf16_learner_keeps_fp32_weights_and_optimizer_state():
    from engine.alphazero.config import TrainSection
    from engine.alphazero.learner import Learner

    net = _trained().train()
    start = {k: v.clone() for k, v in net.state_dict().items()}
    learner = Learner(net, TrainSection(batch_size=8, lr=0.05), "cpu", precision="bf16")
    assert learner.precision == "bf16"
    rng = np.random.default_rng(0)
    planes = _positions(8)[0]
    policy = rng.dirichlet(np.ones(26), size=8).astype(np.float32)
    value = rng.uniform(-1, 1, 8).astype(np.float32)
    for _ in range(3):
        out = learner.train_batch(planes, policy, value, np.sign(value).astype(np.int8))
    assert np.isfinite(out["loss"])
    assert all(p.dtype == torch.float32 for p in net.parameters())
    assert all(p.grad is None or p.grad.dtype == torch.float32 for p in net.parameters())
    buffers = [s["momentum_buffer"] for s in learner.optimizer.state.values()]
    assert buffers and all(b.dtype == torch.float32 for b in buffers)
    assert any(not torch.equal(start[k], v) for k, v in net.state_dict().items())
    # mixed_precision: false keeps the learner in fp32 whatever run.precision says
    assert Learner(_trained(), TrainSection(mixed_precision=False), "cpu", precision="bf16").precision == "fp32"


def test_run_precision_is_validated_in_the_config():
    from engine.alphazero.config import make_config
    from engine.config import ConfigError

    assert make_config(overrides=["run.precision=bf16"]).run.precision == "bf16"
    assert make_config().run.precision == "auto"
    with pytest.raises(ConfigError) as err:
        make_config(overrides=["run.precision=fp16"])
    assert str(err.value) == "run.precision must be one of auto, fp32, bf16, got 'fp16'"


def test_dqn_precision_is_validated_in_the_config():
    from engine.config import ConfigError, load_config
    from engine.dqn.config import DQNConfig

    assert load_config(DQNConfig, None, ["run.precision=bf16"]).run.precision == "bf16"
    with pytest.raises(ConfigError, match="run.precision must be one of 'auto', 'fp32', 'bf16', got 'int8'"):
        load_config(DQNConfig, None, ["run.precision=int8"])


@pytest.mark.parametrize("extra", [[], ["net.distributional=true", "net.v_min=-5", "net.v_max=15"]])
def test_dqn_bf16_update_learns_and_keeps_fp32_weights_and_optimizer_state(extra):
    from engine.config import load_config
    from engine.dqn.agent import DQNAgent
    from engine.dqn.config import DQNConfig
    from engine.dqn.replay import ReplayBuffer

    cfg = load_config(DQNConfig, None, ["net.mlp_widths=[32, 32]", "train.batch_size=16", "train.optimizer=adam",
                                        "train.lr=0.01", "run.precision=bf16", *extra])
    torch.manual_seed(0)
    agent = DQNAgent(cfg, (4,), 2, "cpu")
    assert agent.precision == "bf16"
    replay = ReplayBuffer(64, (4,), frame_dtype=np.float32, stack=1, n_step=1, gamma=0.9, seed=0)
    rng = np.random.default_rng(0)
    for t in range(40):
        replay.add(rng.normal(size=(1, 4)), [t % 2], [1.0], [t % 10 == 9], [t % 10 == 0], [False])
    batch = replay.sample(16)
    first, _ = agent.learn(batch)
    for _ in range(150):
        stats, priorities = agent.learn(batch)
    assert stats["loss"] < first["loss"] and priorities.dtype == np.float32
    assert all(p.dtype == torch.float32 for p in agent.online.parameters())
    states = [t for s in agent.optimizer.state.values() for t in s.values() if torch.is_tensor(t) and t.dim() > 0]
    assert states and all(t.dtype == torch.float32 for t in states)


@pytest.mark.parametrize("command", [["selfplay"], ["dqn"], ["c4eval", "--agent", "random"],
                                     ["arena", "tictactoe", "random", "minimax"], ["analyze", "tictactoe", ""]])
def test_commands_reject_a_bad_precision_in_one_line(command):
    import subprocess
    import sys

    from .conftest import ROOT

    proc = subprocess.run([sys.executable, "-m", f"engine.{command[0]}", *command[1:], "--precision", "fp16"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert proc.stderr.strip() == "error: --precision must be one of auto, fp32, bf16, got 'fp16'"
