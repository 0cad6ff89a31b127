"""The MCTS evaluator and the batched inference helper."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
import torch

import nets
from engine.cli import UserError
from nets import ILLEGAL_LOGIT, PolicyValueEvaluator


@pytest.fixture
def net():
    torch.manual_seed(0)
    model = nets.PolicyValueNet((3, 4, 4), 17, blocks=2, channels=8, value_hidden=16)
    # a few training steps so BatchNorm's running statistics are not the identity
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        logits, value = model(torch.randn(8, 3, 4, 4))
        loss = logits.logsumexp(-1).mean() + value.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def _positions(n, seed=0):
    rng = np.random.default_rng(seed)
    planes = rng.random((n, 3, 4, 4), dtype=np.float32)
    legal = rng.random((n, 17)) < 0.5
    legal[:, 0] = True  # at least one legal move each
    return planes, legal


def test_evaluator_signature_dtypes_and_masking(net):
    evaluator = nets.make_evaluator(net, device="cpu", precision="fp32", fold_bn=False)
    planes, legal = _positions(11)
    logits, value = evaluator(planes, legal)
    assert logits.dtype == np.float32 and logits.shape == (11, 17)
    assert value.dtype == np.float32 and value.shape == (11,)
    assert ((value >= -1) & (value <= 1)).all()
    assert (logits[~legal] == np.float32(ILLEGAL_LOGIT)).all()
    # legal logits are the network's own, in eval mode
    with torch.no_grad():
        ref_logits, ref_value = net.eval()(torch.from_numpy(planes))
    assert np.array_equal(logits[legal], ref_logits.numpy()[legal])
    assert np.array_equal(value, ref_value.numpy())
    # a softmax over the masked logits puts exactly zero on illegal moves
    p = torch.from_numpy(logits).softmax(-1).numpy()
    assert (p[~legal] == 0).all() and np.allclose(p.sum(1), 1)


def test_evaluator_can_leave_illegal_logits(net):
    planes, legal = _positions(5)
    masked, _ = PolicyValueEvaluator(net, device="cpu")(planes, legal)
    raw, _ = PolicyValueEvaluator(net, device="cpu", mask_illegal=False)(planes, legal)
    assert np.array_equal(raw[legal], masked[legal])
    assert (raw[~legal] > ILLEGAL_LOGIT / 2).all()


def test_evaluator_is_in_eval_mode_and_batch_independent(net):
    evaluator = PolicyValueEvaluator(net, device="cpu")
    planes, legal = _positions(6)
    together, v_together = evaluator(planes, legal)
    alone = [evaluator(planes[i:i + 1], legal[i:i + 1]) for i in range(6)]
    # BatchNorm with running statistics: a position's result does not depend on the rest of the batch
    assert np.allclose(together, np.concatenate([a[0] for a in alone]), atol=1e-5)
    assert np.allclose(v_together, np.concatenate([a[1] for a in alone]), atol=1e-5)


def test_evaluator_splits_large_inputs(net):
    planes, legal = _positions(23)
    whole = PolicyValueEvaluator(net, device="cpu")(planes, legal)
    chunked = PolicyValueEvaluator(net, device="cpu", max_batch=5)(planes, legal)
    assert np.allclose(whole[0], chunked[0], atol=1e-5) and np.allclose(whole[1], chunked[1], atol=1e-5)
    empty = PolicyValueEvaluator(net, device="cpu")(planes[:0], legal[:0])
    assert empty[0].shape == (0, 17) and empty[1].shape == (0,)


def test_evaluator_results_are_not_overwritten_by_the_next_call(net):
    evaluator = PolicyValueEvaluator(net, device="cpu")
    first = evaluator(*_positions(4, seed=1))
    kept = (first[0].copy(), first[1].copy())
    evaluator(*_positions(4, seed=2))
    assert np.array_equal(first[0], kept[0]) and np.array_equal(first[1], kept[1])


def test_evaluator_accepts_non_contiguous_views(net):
    planes, legal = _positions(8)
    evaluator = PolicyValueEvaluator(net, device="cpu")
    strided = evaluator(planes[::2], legal[::2])
    copied = evaluator(planes[::2].copy(), legal[::2].copy())
    assert np.array_equal(strided[0], copied[0]) and np.array_equal(strided[1], copied[1])


def test_evaluator_rejects_wrong_inputs(net):
    evaluator = PolicyValueEvaluator(net, device="cpu")
    planes, legal = _positions(3)
    with pytest.raises(ValueError, match="float32"):
        evaluator(planes.astype(np.float64), legal)
    with pytest.raises(ValueError, match=r"the network takes \(3, 4, 4\)"):
        evaluator(np.zeros((3, 3, 5, 5), np.float32), legal)
    with pytest.raises(ValueError, match="bool"):
        evaluator(planes, legal.astype(np.int8))
    with pytest.raises(ValueError, match="predicts 17"):
        evaluator(planes, np.ones((3, 9), bool))
    with pytest.raises(ValueError, match="L = 3"):
        evaluator(planes, legal[:2])


def test_evaluator_takes_new_weights(net):
    evaluator = PolicyValueEvaluator(net, device="cpu", precision="fp32")  # folded: re-folded on new weights
    planes, legal = _positions(3)
    before = evaluator(planes, legal)[1].copy()
    other = nets.PolicyValueNet((3, 4, 4), 17, blocks=2, channels=8, value_hidden=16)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(0.5)
    evaluator.load_state_dict(other.state_dict())
    after = evaluator(planes, legal)[1]
    with torch.no_grad():
        expected = other.eval()(torch.from_numpy(planes))[1].numpy()
    assert not np.allclose(before, after) and np.allclose(after, expected, atol=1e-5)


def test_evaluator_channels_last_matches(net):
    planes, legal = _positions(4)
    a = PolicyValueEvaluator(net, device="cpu", precision="fp32", channels_last=False)(planes, legal)
    b = PolicyValueEvaluator(net, device="cpu", precision="fp32", channels_last=True)(planes, legal)
    assert np.allclose(a[0], b[0], atol=1e-5) and np.allclose(a[1], b[1], atol=1e-5)


def test_predict_chunks_and_restores_training_mode():
    torch.manual_seed(0)
    Out = namedtuple("Out", "a b")

    class Toy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(3, 2)
            self.bn = torch.nn.BatchNorm1d(2)

        def forward(self, x):
            y = self.bn(self.lin(x))
            return Out(y, {"sum": y.sum(1), "none": None})

    toy = Toy().train()
    x = np.random.default_rng(0).random((10, 3), dtype=np.float32)
    whole = nets.predict(toy, x, batch_size=100)
    parts = nets.predict(toy, x, batch_size=3)
    assert toy.training
    assert isinstance(parts, Out) and parts.a.shape == (10, 2) and parts.b["none"] is None
    assert torch.allclose(whole.a, parts.a, atol=1e-6) and torch.allclose(whole.b["sum"], parts.b["sum"], atol=1e-6)
    with pytest.raises(ValueError, match="no inputs"):
        nets.predict(toy, x[:0])


def test_device_choice():
    assert nets.pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert nets.pick_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="CUDA is not available"):
            nets.pick_device("cuda")
    with pytest.raises(UserError, match="unknown device"):
        nets.pick_device("tpu9")
