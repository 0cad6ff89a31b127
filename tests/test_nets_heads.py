"""Heads on backbones, the AlphaZero network, and the registry that builds them from configurations."""

from __future__ import annotations

import pytest
import torch

import nets
from engine.cli import UserError
from nets import NetConfigError, num_parameters

# One small configuration of each backbone, with an input batch it accepts.
BACKBONES = {
    "resnet": ({"name": "resnet", "in_shape": [3, 5, 5], "blocks": 1, "channels": 8}, lambda: torch.randn(2, 3, 5, 5)),
    "board_transformer": ({"name": "board_transformer", "in_shape": [3, 5, 5], "dim": 8, "depth": 1, "heads": 2},
                          lambda: torch.randn(2, 3, 5, 5)),
    "nature_cnn": ({"name": "nature_cnn", "in_shape": [4, 84, 84], "hidden": 32}, lambda: torch.rand(2, 4, 84, 84)),
    "lenet_features": ({"name": "lenet_features"}, lambda: torch.rand(2, 1, 28, 28)),
    "convnet": ({"name": "convnet", "in_shape": [1, 8, 8], "stages": [[4], [6]]}, lambda: torch.rand(2, 1, 8, 8)),
    "mlp": ({"name": "mlp", "in_shape": [1, 6, 6], "widths": [12]}, lambda: torch.rand(2, 1, 6, 6)),
    "transformer": ({"name": "transformer", "dim": 8, "depth": 1, "heads": 2, "max_len": 5},
                    lambda: torch.randn(2, 5, 8)),
}
HEADS = {
    "q": {"name": "q", "num_actions": 4},
    "dueling_q": {"name": "dueling_q", "num_actions": 4, "hidden": 6},
    "c51": {"name": "c51", "num_actions": 4, "atoms": 7, "dueling": True, "hidden": 6},
    "classifier": {"name": "classifier", "num_classes": 4, "hidden": [6], "dropout": 0.1},
    "policy_value": {"name": "policy_value", "num_actions": 4, "value_hidden": 6},
}


def test_every_backbone_and_head_is_covered():
    assert set(BACKBONES) | {"lstm", "gru", "encoder_lstm", "encoder_gru"} == set(nets.BACKBONES.names())
    assert set(HEADS) | {"lm"} == set(nets.HEADS.names())


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
@pytest.mark.parametrize("head", sorted(HEADS))
def test_any_head_fits_any_backbone(backbone, head):
    torch.manual_seed(0)
    config, make_input = BACKBONES[backbone]
    net = nets.build_model({"name": "net", "backbone": config, "head": HEADS[head]}).eval()
    x = make_input()
    out = net(x)
    sequence = backbone == "transformer"  # flat heads predict per token on a sequence backbone
    lead = (2, 5) if sequence else (2,)
    if head == "policy_value":
        assert out.policy.shape == (*lead, 4) and out.value.shape == lead
    elif head == "c51":
        assert out.shape == (*lead, 4, 7)
    else:
        assert out.shape == (*lead, 4)
    # rebuilt from its own config: same architecture, same parameter count
    assert num_parameters(nets.build_model(net.config)) == num_parameters(net)


def test_recurrent_backbone_with_a_head_carries_state():
    net = nets.build_model({"name": "net", "backbone": {"name": "gru", "in_shape": 3, "hidden": 5},
                            "head": {"name": "classifier", "num_classes": 2}})
    torch.manual_seed(0)
    x = torch.randn(4, 6, 3)
    out, state = net(x)
    assert out.shape == (4, 6, 2) and state.shape == (1, 4, 5)
    # the state carries the sequence: the last three steps from the state after three equal the whole run's
    first, mid = net(x[:, :3])
    rest, end = net(x[:, 3:], mid)
    torch.testing.assert_close(torch.cat([first, rest], 1), out)
    torch.testing.assert_close(end, state)
    fresh, _ = net(x[:, 3:])  # ... and starting afresh differs: the state is used
    assert not torch.allclose(fresh, rest)


@pytest.mark.parametrize("head", ["q", "dueling_q", "c51"])
def test_recurrent_q_network_steps_like_it_runs(head):
    # DRQN / R2D2: a per-frame encoder, an LSTM, a Q head on every time step.
    torch.manual_seed(0)
    config = {"name": "net", "backbone": {"name": "encoder_lstm", "hidden": 6,
                                          "encoder": {"name": "nature_cnn", "in_shape": [2, 36, 36], "hidden": 8}},
              "head": HEADS[head]}
    net = nets.build_model(config).eval()
    frames = torch.randint(0, 256, (3, 5, 2, 36, 36), dtype=torch.uint8)
    out, state = net(frames)
    q = net.head.q_values(out)
    assert q.shape == (3, 5, 4)
    state = net.backbone.initial_state(3)
    for t in range(5):
        step_out, state = net(frames[:, t:t + 1], state)
        assert torch.allclose(net.head.q_values(step_out)[:, 0], q[:, t], atol=1e-5)
    encoder = (2 * 64 * 32 + 32) + (32 * 16 * 64 + 64) + (64 * 9 * 64 + 64) + (64 * 8 + 8)  # 36x36 -> 8x8 -> 3x3 -> 1x1
    assert num_parameters(net.backbone) == encoder + 4 * (6 * 8 + 6 * 6 + 2 * 6)
    assert nets.build_model(net.config).config == net.config


def test_dueling_head_is_value_plus_centred_advantage():
    torch.manual_seed(0)
    head = nets.DuelingQHead(8, num_actions=5, hidden=0)
    x = torch.randn(3, 8)
    q = head(x)
    value = head.value(x)
    assert torch.allclose(q.mean(dim=1, keepdim=True), value, atol=1e-6)  # mean over actions of Q is V
    advantage = head.advantage(x)
    assert torch.allclose(q - value, advantage - advantage.mean(1, keepdim=True), atol=1e-6)


def test_c51_distribution_and_expected_value():
    torch.manual_seed(0)
    head = nets.C51Head(8, num_actions=3, atoms=11, v_min=-2.0, v_max=3.0)
    out = head(torch.randn(4, 8))
    probs = head.probabilities(out)
    assert out.shape == (4, 3, 11)
    assert torch.allclose(probs.sum(-1), torch.ones(4, 3))
    q = head.q_values(out)
    assert ((q >= -2.0) & (q <= 3.0)).all()
    assert torch.allclose(q, (probs * torch.linspace(-2, 3, 11)).sum(-1))
    assert "support" not in head.state_dict()  # derived from the config, not stored


def test_net_q_values_for_q_heads():
    net = nets.build_model({"name": "net", "backbone": {"name": "mlp", "in_shape": 4, "widths": [8]},
                            "head": {"name": "c51", "num_actions": 2, "atoms": 5, "v_min": 0, "v_max": 1}})
    x = torch.randn(3, 4)
    q = net.q_values(x)
    assert q.shape == (3, 2) and ((q >= 0) & (q <= 1)).all()
    # Q = the expectation of the atoms 0, .25, .5, .75, 1 under each action's distribution
    logits = net(x)
    assert logits.shape == (3, 2, 5)
    torch.testing.assert_close(q, (logits.softmax(-1) * torch.linspace(0, 1, 5)).sum(-1))
    cls = nets.build_model({"name": "net", "backbone": {"name": "mlp", "in_shape": 4, "widths": [8]},
                            "head": {"name": "classifier", "num_classes": 2}})
    with pytest.raises(TypeError, match="Q-values"):
        cls.q_values(torch.randn(3, 4))


# ------------------------------------------------------------------------------------------------- AlphaZero net
def test_policy_value_net_shapes_and_value_range():
    torch.manual_seed(0)
    net = nets.PolicyValueNet((17, 9, 9), 82, blocks=2, channels=16)
    logits, value = net(torch.randn(5, 17, 9, 9) * 10)
    assert logits.shape == (5, 82) and value.shape == (5,)
    assert ((value >= -1) & (value <= 1)).all()
    head = 16 * 2 + 2 * 2 + (2 * 81 * 82 + 82) + 16 * 1 + 2 + (81 * 256 + 256) + (256 + 1)
    trunk = 17 * 16 * 9 + 2 * 16 + 2 * 2 * (16 * 16 * 9 + 2 * 16)
    assert num_parameters(net) == trunk + head


def test_policy_value_wdl():
    torch.manual_seed(0)
    net = nets.PolicyValueNet((2, 3, 3), 9, blocks=1, channels=8, wdl=True).eval()
    out = net.forward_all(torch.randn(4, 2, 3, 3))
    probs = out.wdl.softmax(-1)
    assert out.wdl.shape == (4, 3)
    assert torch.allclose(out.value, probs[:, 0] - probs[:, 2])
    logits, value = net(torch.randn(4, 2, 3, 3))
    assert value.shape == (4,) and ((value >= -1) & (value <= 1)).all()


def test_policy_value_from_config_dataclass_and_transformer_trunk():
    cfg = nets.PolicyValueConfig(trunk="transformer", blocks=2, channels=16, attention_heads=4, positions="sinusoidal")
    net = nets.PolicyValueNet.from_config((3, 6, 7), 7, cfg)
    assert isinstance(net.trunk, nets.BoardTransformer)
    logits, value = net(torch.randn(2, 3, 6, 7))
    assert logits.shape == (2, 7) and value.shape == (2,)
    rebuilt = nets.build_model(net.config)
    assert rebuilt.config == net.config and rebuilt.arch == cfg


def test_policy_value_config_errors_name_the_problem():
    with pytest.raises(NetConfigError, match="unknown trunk 'mlp'.*resnet, transformer"):
        nets.PolicyValueNet((3, 3, 3), 9, trunk="mlp")
    with pytest.raises(NetConfigError, match="unknown network option 'block'"):
        nets.PolicyValueNet.from_config((3, 3, 3), 9, {"block": 3})
    with pytest.raises(NetConfigError, match="divisible"):
        nets.PolicyValueNet((3, 3, 3), 9, trunk="transformer", channels=10, attention_heads=4)
    with pytest.raises(NetConfigError, match="plane_shape"):
        nets.PolicyValueNet((3, 3), 9)


def test_lm_head_is_tied_to_the_embedding():
    gpt = nets.GPT(vocab_size=9, max_len=4, dim=8, depth=1, heads=2)
    with torch.no_grad():
        gpt.embed.weight[3].fill_(0.5)
    assert torch.equal(gpt.head.weight[3], torch.full((8,), 0.5))
    with pytest.raises(ValueError, match="cannot tie"):
        nets.LMHead(8, 10).tie(torch.nn.Embedding(9, 8))


# ------------------------------------------------------------------------------------------------- registry
def test_registry_errors_list_the_valid_choices():
    with pytest.raises(NetConfigError, match="unknown backbone 'resnet50'; known: board_transformer, convnet, "
                                             "encoder_gru, encoder_lstm, gru"):
        nets.make_backbone({"name": "resnet50"})
    with pytest.raises(NetConfigError, match="unknown head 'value'"):
        nets.make_head("value", in_shape=(4,))
    with pytest.raises(NetConfigError, match="has no argument 'width'; valid: in_shape, widths"):
        nets.make_backbone({"name": "mlp", "in_shape": 3, "width": [4]})
    with pytest.raises(NetConfigError, match="needs argument 'num_actions'"):
        nets.make_head({"name": "q"}, in_shape=(4,))
    with pytest.raises(NetConfigError, match="has no 'name'"):
        nets.build_model({"blocks": 3})
    with pytest.raises(NetConfigError, match="unknown activation"):
        nets.make_backbone({"name": "mlp", "in_shape": 3, "activation": "swish2"})
    assert issubclass(NetConfigError, UserError)


def test_registering_a_new_backbone_makes_it_available_to_configs():
    @nets.register_backbone("test_identity")
    class Identity(nets.Backbone):
        def __init__(self, in_shape):
            super().__init__()
            nets.registry.remember_config(self, "test_identity", {"in_shape": in_shape})
            self.out_shape = nets.as_shape(in_shape)

        def forward(self, x):
            return x

    try:
        net = nets.build_model({"name": "net", "backbone": {"name": "test_identity", "in_shape": 3},
                                "head": {"name": "q", "num_actions": 2}})
        x = torch.randn(1, 3)
        (linear,) = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]  # the Q head's only layer
        torch.testing.assert_close(net(x), linear(x))  # the identity backbone hands the input to the head
    finally:
        nets.BACKBONES._entries.pop("test_identity")
