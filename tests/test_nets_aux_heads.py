"""KataGo's ownership and score heads on the AlphaZero net: shapes, off by default, save/load, old checkpoints."""

from __future__ import annotations

import pytest
import torch

from nets import (
    CheckpointError,
    PolicyValueNet,
    load_checkpoint,
    load_model,
    read_checkpoint,
    save_checkpoint,
    score_support,
)


def _net(**kw):
    torch.manual_seed(0)
    return PolicyValueNet((17, 5, 5), 26, blocks=1, channels=8, value_hidden=16, **kw)


@pytest.mark.parametrize("trunk", ["resnet", "transformer"])
def test_heads_shapes(trunk):
    net = _net(trunk=trunk, ownership=True, score=True).eval()
    x = torch.randn(3, 17, 5, 5)
    out = net.forward_all(x)
    assert out.ownership.shape == (3, 5, 5)
    bins = score_support(25)
    assert out.score.shape == (3, len(bins)) and len(bins) == 2 * (25 + 20)
    assert bins[0] == -44.5 and bins[-1] == 44.5
    mean = net.score_mean(out.score)
    assert mean.shape == (3,) and bool((mean.abs() <= 44.5).all())
    logits, value = net(x)  # the search's interface is unchanged
    assert logits.shape == (3, 26) and value.shape == (3,)


def test_heads_are_off_by_default_and_leave_the_parameters_unchanged():
    plain, aux = _net(), _net(ownership=True, score=True)
    assert plain.forward_all(torch.zeros(1, 17, 5, 5)).ownership is None
    extra = set(aux.state_dict()) - set(plain.state_dict())
    assert extra and all(k.startswith(("ownership_head.", "score_head.")) for k in extra)
    assert set(plain.state_dict()) <= set(aux.state_dict())


def test_heads_save_and_load(tmp_path):
    net = _net(ownership=True, score=True).eval()
    path = save_checkpoint(tmp_path / "aux.pt", net)
    loaded, _ = load_model(path)
    x = torch.randn(2, 17, 5, 5)
    a, b = net.forward_all(x), loaded.forward_all(x)
    torch.testing.assert_close(a.ownership, b.ownership)
    torch.testing.assert_close(a.score, b.score)
    assert loaded.arch.ownership and loaded.arch.score


def test_an_old_checkpoint_without_the_heads_still_loads(tmp_path):
    net = _net().eval()
    path = save_checkpoint(tmp_path / "old.pt", net)
    payload = torch.load(path, weights_only=True)
    for key in ("ownership", "score"):  # a file written before the options existed
        del payload["config"][key]
    torch.save(payload, path)
    assert "ownership" not in str(read_checkpoint(path).config)
    loaded, _ = load_model(path)
    assert not loaded.arch.ownership and not loaded.arch.score
    x = torch.randn(2, 17, 5, 5)
    torch.testing.assert_close(net(x)[1], loaded(x)[1])
    load_checkpoint(path, _net())  # into a net built from today's defaults
    with pytest.raises(CheckpointError, match="ownership_head"):
        load_checkpoint(path, _net(ownership=True))  # names what is missing
