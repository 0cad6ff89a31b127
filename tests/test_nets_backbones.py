"""Backbones: exact parameter counts and shapes, causal masking, recurrent state, gradient flow, init."""

from __future__ import annotations

import math

import pytest
import torch

import nets
from nets import num_parameters


def _seed():
    torch.manual_seed(0)


# ------------------------------------------------------------------------------------------------- LeNet
def test_lenet_has_exactly_51902_parameters_with_the_documented_layers():
    model = nets.LeNet()
    assert num_parameters(model) == 51_902
    table = {row["layer"]: row for row in model.layer_table()}
    assert {k: v["parameters"] for k, v in table.items()} == {"C1": 156, "C2": 2_416, "N1": 48_120, "output": 1_210}
    assert table["C1"]["weight"] == (6, 1, 5, 5)
    assert table["C2"]["weight"] == (16, 6, 5, 5)   # every C2 map sees all six C1 maps
    assert table["N1"]["weight"] == (120, 400)
    assert table["output"]["weight"] == (10, 120)


def test_lenet_activation_shapes_and_padding():
    model = nets.LeNet().eval()
    f = model.features
    x = torch.randn(3, 1, 28, 28)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    assert padded.shape == (3, 1, 32, 32)
    c1 = f.c1(padded)
    assert c1.shape == (3, 6, 28, 28)
    s2 = f.s2(f.act(c1))
    assert s2.shape == (3, 6, 14, 14)
    c2 = f.c2(s2)
    assert c2.shape == (3, 16, 10, 10)
    assert f.s4(f.act(c2)).shape == (3, 16, 5, 5)
    assert model(x).shape == (3, 10)
    # 28x28 input is the same as feeding the zero-padded 32x32 image to a 32x32 LeNet.
    big = nets.LeNet(in_shape=(1, 32, 32)).eval()
    big.load_state_dict(model.state_dict())
    assert torch.equal(model(x), big(padded))


def test_lenet_rejects_other_image_sizes():
    with pytest.raises(ValueError, match="28, 28"):
        nets.LeNet(in_shape=(1, 30, 30))


# ------------------------------------------------------------------------------------------------- counts
def test_convnet_parameter_count_and_downsampling():
    # 3x3 convolutions without bias (BatchNorm follows) + 2 BN parameters per map.
    model = nets.ConvNet((1, 28, 28), stages=[[32, 32], [64, 64]])
    expected = (9 * 1 * 32 + 64) + (9 * 32 * 32 + 64) + (9 * 32 * 64 + 128) + (9 * 64 * 64 + 128)
    assert num_parameters(model) == expected == 65_184
    assert model.out_shape == (64, 7, 7) and model(torch.rand(2, 1, 28, 28)).shape == (2, 64, 7, 7)
    # Strided: 28 -> 14 -> 7 -> 4 (ceil), DCGAN discriminator style: first convolution with bias, no BN.
    strided = nets.ConvNet((1, 28, 28), stages=[[8], [8], [8]], kernel=5, downsample="stride", input_norm=False)
    assert strided.out_shape == (8, 4, 4) and strided(torch.rand(2, 1, 28, 28)).shape == (2, 8, 4, 4)
    first, second = strided.layers[0], strided.layers[2]
    assert first.bias is not None and isinstance(strided.layers[1], torch.nn.ReLU)
    assert second.bias is None and isinstance(strided.layers[3], torch.nn.BatchNorm2d)
    with pytest.raises(ValueError, match="kernel must be odd"):
        nets.ConvNet((1, 28, 28), kernel=4)
    with pytest.raises(ValueError, match="too small"):
        nets.ConvNet((1, 4, 4), stages=[[4], [4], [4]])


def test_nature_cnn_parameter_count_and_shapes():
    net = nets.NatureCNN((4, 84, 84))
    conv = (4 * 8 * 8 * 32 + 32) + (32 * 4 * 4 * 64 + 64) + (64 * 3 * 3 * 64 + 64)
    fc = 7 * 7 * 64 * 512 + 512
    assert num_parameters(net) == conv + fc == 1_684_128
    assert net.out_shape == (512,) and net.out_dim == 512
    frames = torch.randint(0, 256, (2, 4, 84, 84), dtype=torch.uint8)
    out = net(frames)
    assert out.shape == (2, 512)
    assert torch.allclose(out, net(frames.float() / 255))   # bytes are scaled inside
    conv_only = nets.NatureCNN((4, 84, 84), hidden=0)
    assert conv_only.out_shape == (3136,) and num_parameters(conv_only) == conv


def _resnet_count(cin, blocks, channels):
    stem = cin * channels * 9 + 2 * channels
    block = 2 * (channels * channels * 9 + 2 * channels)
    return stem + blocks * block


def test_resnet_parameter_count_and_shape():
    net = nets.ResNetTower((17, 9, 9), blocks=6, channels=64)
    assert num_parameters(net) == _resnet_count(17, 6, 64)
    assert net.out_shape == (64, 9, 9)
    assert net(torch.randn(2, 17, 9, 9)).shape == (2, 64, 9, 9)


def test_resnet_squeeze_excitation_and_global_pooling_counts():
    c, g = 16, 4
    se = nets.ResNetTower((3, 5, 5), blocks=2, channels=c, se_ratio=4)
    se_extra = (c * (c // 4) + c // 4) + ((c // 4) * 2 * c + 2 * c)
    assert num_parameters(se) == _resnet_count(3, 2, c) + 2 * se_extra
    gp = nets.ResNetTower((3, 5, 5), blocks=2, channels=c, global_pool_channels=g, global_pool_every=2)
    # block 1 (0-based) pools g maps: its bn1 and conv2 see c - g maps; pooling adds BN(g) and FC(2g -> c-g).
    plain_block = 2 * (c * c * 9 + 2 * c)
    pool_block = c * c * 9 + 2 * (c - g) + (c - g) * c * 9 + 2 * c + 2 * g + (2 * g * (c - g) + (c - g))
    assert num_parameters(gp) == (3 * c * 9 + 2 * c) + plain_block + pool_block
    x = torch.randn(2, 3, 5, 5)
    assert se(x).shape == gp(x).shape == (2, c, 5, 5)


def test_global_pooling_bias_sees_the_whole_board():
    # A plain 3x3 conv tower of one block has a 5x5 receptive field (stem + 2 convs = 7x7); on a 9x9 board a
    # corner cannot influence the opposite corner, unless global pooling carries it across.
    _seed()
    plain = nets.ResNetTower((1, 9, 9), blocks=1, channels=8).eval()
    pooled = nets.ResNetTower((1, 9, 9), blocks=1, channels=8, global_pool_channels=2, global_pool_every=1).eval()
    x = torch.zeros(1, 1, 9, 9)
    y = x.clone()
    y[0, 0, 0, 0] = 5.0
    assert torch.equal(plain(x)[..., 8, 8], plain(y)[..., 8, 8])
    assert not torch.equal(pooled(x)[..., 8, 8], pooled(y)[..., 8, 8])


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
def test_mlp_parameter_count(norm):
    net = nets.MLP((1, 28, 28), widths=[32, 16], norm=norm, dropout=0.1)
    linear = (784 * 32 + 16 * 32) if norm != "none" else (784 * 32 + 32 + 32 * 16 + 16)
    if norm == "none":
        expected = linear
    else:  # no linear bias before a norm; the norm has a scale and a shift per unit
        expected = 784 * 32 + 32 * 16 + 2 * (32 + 16)
    assert num_parameters(net) == expected
    assert net.out_shape == (16,)
    assert net(torch.randn(5, 1, 28, 28)).shape == (5, 16)


@pytest.mark.parametrize("cell,gates", [("lstm", 4), ("gru", 3)])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_parameter_count(cell, gates, bidirectional):
    i, h, layers = 5, 7, 2
    net = nets.make_backbone({"name": cell, "in_shape": i, "hidden": h, "layers": layers,
                              "bidirectional": bidirectional})
    d = 2 if bidirectional else 1
    per_dir = [gates * (h * inp + h * h + 2 * h) for inp in (i, h * d)]
    assert num_parameters(net) == d * sum(per_dir)
    assert net.out_shape == (h * d,)
    y, state = net(torch.randn(3, 4, i))
    assert y.shape == (3, 4, h * d)


def _transformer_count(dim, depth, mlp_ratio, max_len, learned=True):
    block = 2 * dim + (3 * dim * dim + 3 * dim) + (dim * dim + dim) + 2 * dim \
        + (dim * mlp_ratio * dim + mlp_ratio * dim) + (mlp_ratio * dim * dim + dim)
    return depth * block + 2 * dim + (max_len * dim if learned else 0)


def test_transformer_and_gpt_parameter_counts():
    t = nets.Transformer(dim=32, depth=3, heads=4, max_len=20)
    assert num_parameters(t) == _transformer_count(32, 3, 4, 20)
    s = nets.Transformer(dim=32, depth=3, heads=4, max_len=20, positions="sinusoidal")
    assert num_parameters(s) == _transformer_count(32, 3, 4, 20, learned=False)
    gpt = nets.GPT(vocab_size=50, max_len=20, dim=32, depth=3, heads=4)
    # tied: the 50x32 embedding is counted once, for both input and output
    assert num_parameters(gpt) == _transformer_count(32, 3, 4, 20) + 50 * 32
    assert gpt.head.weight is gpt.embed.weight
    untied = nets.GPT(vocab_size=50, max_len=20, dim=32, depth=3, heads=4, tie_weights=False)
    assert num_parameters(untied) == num_parameters(gpt) + 50 * 32
    assert gpt(torch.randint(0, 50, (2, 11))).shape == (2, 11, 50)


def test_board_transformer_is_a_spatial_backbone():
    net = nets.BoardTransformer((17, 9, 9), dim=32, depth=2, heads=4)
    assert num_parameters(net) == (17 * 32 + 32) + _transformer_count(32, 2, 4, 81)
    assert net.out_shape == (32, 9, 9)
    assert net(torch.randn(2, 17, 9, 9)).shape == (2, 32, 9, 9)


def test_sinusoidal_positions_follow_vaswani():
    table = nets.transformer.sinusoidal_positions(10, 8)
    p, i = 7, 2
    assert table[p, 2 * i].item() == pytest.approx(math.sin(p / 10000 ** (2 * i / 8)), abs=1e-6)
    assert table[p, 2 * i + 1].item() == pytest.approx(math.cos(p / 10000 ** (2 * i / 8)), abs=1e-6)


# ------------------------------------------------------------------------------------------------- masks
@pytest.mark.parametrize("positions", ["learned", "sinusoidal"])
def test_causal_attention_never_looks_ahead(positions):
    _seed()
    gpt = nets.GPT(vocab_size=30, max_len=16, dim=32, depth=3, heads=4, positions=positions).eval()
    tokens = torch.randint(0, 30, (2, 16))
    changed = tokens.clone()
    changed[:, 9:] = (changed[:, 9:] + 1 + torch.randint(0, 28, (2, 7))) % 30  # every future token differs
    assert (changed[:, 9:] != tokens[:, 9:]).all()
    a, b = gpt(tokens), gpt(changed)
    assert torch.equal(a[:, :9], b[:, :9])          # positions 0..8 never saw positions 9..15
    assert not torch.allclose(a[:, 9:], b[:, 9:])   # the changed ones did change


def test_encoder_attention_sees_every_position():
    _seed()
    enc = nets.Transformer(dim=16, depth=2, heads=2, max_len=8, causal=False).eval()
    x = torch.randn(1, 8, 16)
    y = x.clone()
    y[:, 7] += torch.randn(16)  # not a constant shift: LayerNorm would remove that
    assert not torch.allclose(enc(x)[:, 0], enc(y)[:, 0])


# ------------------------------------------------------------------------------------------------- recurrent
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recurrent_stepwise_equals_full_sequence(cell):
    _seed()
    net = nets.make_backbone({"name": cell, "in_shape": 6, "hidden": 10, "layers": 3}).double().eval()
    x = torch.randn(4, 9, 6, dtype=torch.float64)
    full, full_state = net(x)
    state = net.initial_state(4)
    steps = []
    for t in range(9):
        y, state = net.step(x[:, t], state)
        steps.append(y)
    assert torch.allclose(torch.stack(steps, dim=1), full, atol=1e-12)
    # carrying the state across two chunks equals one pass
    first, mid = net(x[:, :5])
    second, end = net(x[:, 5:], mid)
    assert torch.allclose(torch.cat([first, second], dim=1), full, atol=1e-12)
    for a, b in zip(nets.recurrent._as_tuple(end), nets.recurrent._as_tuple(full_state), strict=True):
        assert torch.allclose(a, b, atol=1e-12)


def test_bidirectional_cannot_step():
    net = nets.LSTM(3, hidden=4, bidirectional=True)
    with pytest.raises(ValueError, match="bidirectional"):
        net.step(torch.randn(1, 3))


def test_recurrent_lm_generation_carries_state():
    _seed()
    lm = nets.RecurrentLM(vocab_size=12, cell="gru", embed_dim=8, hidden=8, layers=2, tie_weights=True).eval()
    assert lm.head.weight is lm.embed.weight
    prompt = torch.tensor([[1, 2, 3]])
    out = lm.generate(prompt, steps=5, temperature=0)
    assert out.shape == (1, 8) and torch.equal(out[:, :3], prompt)
    # greedy decoding with state carried step by step equals re-reading the whole prefix each time
    tokens = prompt
    for _ in range(5):
        logits, _ = lm(tokens)
        tokens = torch.cat([tokens, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert torch.equal(tokens, out)


def test_gpt_generation_is_greedy_at_zero_temperature_and_respects_top_k():
    _seed()
    gpt = nets.GPT(vocab_size=10, max_len=6, dim=16, depth=2, heads=2).eval()
    prompt = torch.tensor([[1, 2]])
    greedy = gpt.generate(prompt, steps=7, temperature=0)  # longer than max_len: the context slides
    tokens = prompt
    for _ in range(7):
        tokens = torch.cat([tokens, gpt(tokens[:, -6:])[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert torch.equal(greedy, tokens)
    sampled = gpt.generate(prompt, steps=7, temperature=1.0, top_k=1, generator=torch.Generator().manual_seed(3))
    assert torch.equal(sampled, greedy)  # top-1 sampling has one choice


# ------------------------------------------------------------------------------------------------- gradients
def _assert_every_parameter_learns(model, loss):
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name} has a non-finite gradient"
        assert p.grad.abs().sum() > 0, f"{name} has an all-zero gradient"


def test_gradient_flows_through_a_40_block_resnet():
    _seed()
    net = nets.PolicyValueNet((3, 4, 4), 17, blocks=40, channels=8, value_hidden=8)
    logits, value = net(torch.randn(6, 3, 4, 4))
    loss = torch.nn.functional.cross_entropy(logits, torch.randint(0, 17, (6,))) + (value - 0.3).pow(2).mean()
    _assert_every_parameter_learns(net, loss)
    stem_grad = net.trunk.stem[0].weight.grad.norm()
    assert 1e-6 < stem_grad < 1e6  # neither vanished nor exploded through 80 convolutions


def test_gradient_flows_through_a_12_layer_transformer():
    _seed()
    gpt = nets.GPT(vocab_size=11, max_len=12, dim=16, depth=12, heads=2)
    tokens = torch.randint(0, 11, (3, 12))  # full length: every learned position is used
    logits = gpt(tokens)
    loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 11), tokens[:, 1:].reshape(-1))
    _assert_every_parameter_learns(gpt, loss)


def test_gradient_flows_through_the_transformer_board_trunk():
    _seed()
    net = nets.PolicyValueNet((3, 3, 3), 10, trunk="transformer", blocks=12, channels=16, attention_heads=2,
                              value_hidden=8, wdl=True)
    out = net.forward_all(torch.randn(4, 3, 3, 3))
    loss = out.policy.logsumexp(-1).mean() + torch.nn.functional.cross_entropy(out.wdl, torch.tensor([0, 1, 2, 0]))
    _assert_every_parameter_learns(net, loss)


# ------------------------------------------------------------------------------------------------- init
def test_initialization_follows_fan_in_and_fan_out():
    _seed()
    he = nets.init_layer(torch.nn.Linear(400, 300), "relu")
    assert he.weight.var().item() == pytest.approx(2 / 400, rel=0.05)
    assert torch.count_nonzero(he.bias) == 0
    glorot = nets.init_layer(torch.nn.Linear(400, 300), "linear")
    assert glorot.weight.var().item() == pytest.approx(2 / (400 + 300), rel=0.05)
    conv = nets.init_layer(torch.nn.Conv2d(64, 64, 3), "relu")
    assert conv.weight.var().item() == pytest.approx(2 / (64 * 9), rel=0.05)
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        nets.init_layer(torch.nn.Linear(2, 2), "swish2")


def test_lstm_forget_gate_bias_starts_at_one():
    lstm = nets.LSTM(3, hidden=5)
    bias = lstm.rnn.bias_ih_l0
    assert torch.equal(bias[5:10], torch.ones(5)) and torch.count_nonzero(bias[:5]) == 0
