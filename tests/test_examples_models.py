"""RBM contrastive divergence (a hand-computed CD-1 update, sampling order, free energy), the denoising
autoencoder, DBN/SDAE weight transfer into nets' MLP, and the shared training loop's schedules and resume."""

from __future__ import annotations

import math

import pytest
import torch

from engine.cli import UserError
from examples import pretrain, train
from examples.rbm import RBM, bernoulli, cd_update
from examples.sdae import DenoisingAutoencoder, mask

LN3 = math.log(3.0)


def _hand_rbm() -> RBM:
    """3 visible, 2 hidden; weights chosen so every sigmoid below is 1/4, 1/2 or 3/4 exactly."""
    rbm = RBM(3, 2)
    with torch.no_grad():
        rbm.weight.copy_(torch.tensor([[LN3, 0.0, -LN3], [0.0, LN3, 0.0]]))
        rbm.visible_bias.copy_(torch.tensor([0.0, 0.5, -0.5]))
        rbm.hidden_bias.copy_(torch.tensor([0.0, -LN3]))
    return rbm


def test_cd1_update_on_a_hand_computed_case():
    rbm = _hand_rbm()
    x1 = torch.tensor([[1.0, 0.0, 1.0]])
    h1 = torch.tensor([[1.0, 0.0]])       # a sample of Q(h | x1) = sigm([0, -ln 3]) = [1/2, 1/4]
    x2 = torch.tensor([[1.0, 1.0, 0.0]])  # a sample of P(x | h1)
    # Q(h2 = 1 | x2) = sigm([ln 3 + 0, ln 3 - ln 3]) = [3/4, 1/2]
    q2 = rbm.set_cd_gradients(x1, h1, x2)
    torch.testing.assert_close(q2, torch.tensor([[0.75, 0.5]]))
    # the gradient is minus the CD statistics
    torch.testing.assert_close(rbm.weight.grad, -torch.tensor([[0.25, -0.75, 1.0], [-0.5, -0.5, 0.0]]),
                               atol=1e-6, rtol=0)
    eps = 0.1
    opt = torch.optim.SGD(rbm.parameters(), lr=eps)     # what the DBN trainer uses (momentum 0, no decay here)
    opt.step()
    # W += eps (h1 x1' - q2 x2') = eps ([[1, 0, 1], [0, 0, 0]] - [[.75, .75, 0], [.5, .5, 0]])
    expected_w = torch.tensor([[LN3 + 0.025, -0.075, -LN3 + 0.1], [-0.05, LN3 - 0.05, 0.0]])
    torch.testing.assert_close(rbm.weight.data, expected_w, atol=1e-6, rtol=0)
    # b += eps (x1 - x2) = eps [0, -1, 1];  c += eps (h1 - q2) = eps [1/4, -1/2]
    torch.testing.assert_close(rbm.visible_bias.data, torch.tensor([0.0, 0.4, -0.4]), atol=1e-6, rtol=0)
    torch.testing.assert_close(rbm.hidden_bias.data, torch.tensor([0.025, -LN3 - 0.05]), atol=1e-6, rtol=0)


def test_cd1_sampling_replays_the_algorithm_step_by_step():
    torch.manual_seed(0)
    rbm = RBM(6, 4)
    with torch.no_grad():
        rbm.weight.normal_(0, 1)
    x1 = bernoulli(torch.full((5, 6), 0.5), torch.Generator().manual_seed(1))
    before = rbm.weight.detach().clone()
    out = cd_update(rbm, x1, lr=0.5, k=1, generator=torch.Generator().manual_seed(7))
    # By hand: h1 ~ Q(h|x1), x2 ~ P(x|h1), then the update with Q(h2|x2), from the same random numbers.
    g = torch.Generator().manual_seed(7)
    q1 = torch.sigmoid(x1 @ before.t())
    h1 = (torch.rand(q1.shape, generator=g) < q1).float()
    p2 = torch.sigmoid(h1 @ before)
    x2 = (torch.rand(p2.shape, generator=g) < p2).float()
    q2 = torch.sigmoid(x2 @ before.t())
    assert torch.equal(out["h1"], h1) and torch.equal(out["x2"], x2)
    torch.testing.assert_close(rbm.weight.data, before + 0.5 * (h1.t() @ x1 - q2.t() @ x2) / 5)


def test_free_energy_matches_its_definition():
    rbm = _hand_rbm()
    x = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    # F(x) = -b'x - sum_i log(1 + exp(c_i + W_i x))
    by_hand = []
    for v in x:
        pre = rbm.weight.data @ v + rbm.hidden_bias.data
        by_hand.append(-(rbm.visible_bias.data @ v) - torch.log1p(torch.exp(pre)).sum())
    torch.testing.assert_close(rbm.free_energy(x), torch.stack(by_hand))


def _patterns() -> torch.Tensor:
    base = torch.tensor([[1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0], [0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1],
                         [1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0]], dtype=torch.float32)
    return base.repeat(20, 1)


@pytest.mark.parametrize("mean_field", [False, True])
def test_free_energy_of_training_data_decreases_during_cd_training(mean_field):
    torch.manual_seed(0)
    data = _patterns()
    others = bernoulli(torch.full((200, 12), 0.5), torch.Generator().manual_seed(5))
    rbm = RBM(12, 8)
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.SGD(rbm.parameters(), lr=0.1, momentum=0.5)
    start = rbm.free_energy(data).mean().item()
    errors = []
    for _ in range(300):
        opt.zero_grad()
        errors.append(rbm.cd_gradients(data, 1, gen, mean_field=mean_field)["reconstruction_error"].item())
        opt.step()
    end = rbm.free_energy(data).mean().item()
    assert end < start - 5.0
    # the training patterns became far more probable than random vectors (lower free energy)
    assert end < rbm.free_energy(others).mean().item() - 3.0
    assert sum(errors[-20:]) / 20 < 0.5 * sum(errors[:20]) / 20


def test_label_rbm_reconstructs_a_softmax_group_and_gibbs_keeps_clamped_units():
    torch.manual_seed(0)
    rbm = RBM(7, 5, label_units=3)
    h = bernoulli(torch.full((4, 5), 0.5))
    p = rbm.visible_prob(h)
    torch.testing.assert_close(p[:, 4:].sum(dim=1), torch.ones(4))
    x = rbm.sample_visible(p, torch.Generator().manual_seed(0))
    assert torch.equal(x[:, 4:].sum(dim=1), torch.ones(4))
    start = torch.cat([torch.zeros(4, 4), torch.eye(3)[[0, 1, 2, 0]]], dim=1)
    clamp = torch.zeros(4, 7, dtype=torch.bool)
    clamp[:, 4:] = True
    out = rbm.gibbs(start, 5, torch.Generator().manual_seed(0), clamp=clamp)
    assert torch.equal(out[:, 4:], start[:, 4:])


def test_denoising_autoencoder_reconstruction_error_falls():
    torch.manual_seed(0)
    data = _patterns()
    dae = DenoisingAutoencoder(12, 6)
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.SGD(dae.parameters(), lr=0.1, momentum=0.9)
    before = dae.reconstruction_loss(data).item()
    for _ in range(200):
        opt.zero_grad()
        dae.reconstruction_loss(data, mask(data, 0.25, gen)).backward()
        opt.step()
    after = dae.reconstruction_loss(data).item()
    assert after < 0.25 * before
    # it learned to denoise: the clean pattern comes back from a masked copy
    masked = mask(data[:3], 0.25, torch.Generator().manual_seed(9))
    assert torch.equal((dae(masked) > 0.5).float(), data[:3])


def test_masking_noise_zeroes_the_given_fraction():
    x = torch.ones(200, 50)
    kept = mask(x, 0.25, torch.Generator().manual_seed(0)).mean().item()
    assert abs(kept - 0.75) < 0.01


def test_pretrained_layers_go_into_the_nets_mlp():
    rbms = [RBM(784, 8), RBM(8 + 10, 6, label_units=10)]
    net = pretrain.finetune_net([8, 6], dropout=0.0)
    pretrain.load_pretrained(net, [(r.weight, r.hidden_bias) for r in rbms])
    first, second = pretrain.hidden_layers(net)
    assert torch.equal(first.weight, rbms[0].weight) and torch.equal(second.weight, rbms[1].weight[:, :8])
    x = torch.rand(3, 1, 28, 28)
    codes = rbms[1].hidden_prob(torch.cat([rbms[0].hidden_prob(x.flatten(1)), torch.zeros(3, 10)], dim=1))
    torch.testing.assert_close(net.backbone(x), codes)
    assert net(x).shape == (3, 10)
    assert pretrain.parse_sizes("500-500,2000") == [500, 500, 2000]
    with pytest.raises(UserError, match="comma-separated integers"):
        pretrain.parse_sizes("5x5")


def test_learning_rate_schedules():
    cfg = train.TrainConfig(epochs=2, lr=1.0, scheduler="cosine", warmup=10, min_lr=0.1)
    model = torch.nn.Linear(2, 2)
    opt = train.make_optimizer(model, cfg)
    sched = train.make_scheduler(opt, cfg, steps_per_epoch=55)             # 110 steps, 10 of warm-up
    lrs = []
    for _ in range(110):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)   # linear warm-up to the peak
    assert lrs[60] == pytest.approx(0.1 + 0.9 * 0.5)                       # half-way down the cosine
    assert lrs[-1] == pytest.approx(0.1, abs=1e-3)
    step_cfg = train.TrainConfig(epochs=4, lr=1.0, scheduler="step", gamma=0.5, step_every=2)
    rule = train.SCHEDULES["step"]
    assert [rule(s, 40, 0, step_cfg, 10) for s in (0, 19, 20, 39)] == [1.0, 1.0, 0.5, 0.5]


def test_weight_decay_spares_biases_and_config_errors_are_clear():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    decay, no_decay = train.decay_groups(model, 0.1)
    assert [p.shape for p in decay["params"]] == [(4, 3)] and len(no_decay["params"]) == 3
    assert no_decay["weight_decay"] == 0.0
    with pytest.raises(UserError, match="unknown optimizer 'lbfgs'; known: sgd, adam, adamw"):
        train.from_dict(train.TrainConfig, {"optimizer": "lbfgs"})
    with pytest.raises(UserError, match="unknown config key 'learning_rate'"):
        train.from_dict(train.TrainConfig, {"learning_rate": 0.1})


def test_resumed_trainer_credits_the_run_clock_with_earlier_sessions(tmp_path):
    # The results line of a resumed command reports the whole run's time: a checkpoint that says its earlier
    # sessions took 1,000 s wall and 400 s CPU adds them to the new session's clock.
    cfg = train.TrainConfig(epochs=1, batch_size=2, optimizer="sgd", lr=0.1)
    model = torch.nn.Linear(2, 1)

    def batches(epoch):
        yield torch.ones(2, 2)

    def step(x):
        return {"loss": model(x).pow(2).mean()}

    first = train.Trainer(model, cfg, steps_per_epoch=1, run_dir=tmp_path, progress=False, quiet=True)
    first.fit(batches, step)
    first.clock = train.Clock(1000.0, 400.0)
    first.save()
    run_clock = train.Clock()
    again = train.Trainer(model, cfg, steps_per_epoch=1, run_dir=tmp_path, progress=False, quiet=True,
                          run_clock=run_clock)
    assert again.fit(batches, step, resume=True)["epochs"] == 1
    assert 1000.0 <= run_clock.wall < 1100.0 and 400.0 <= run_clock.cpu < 500.0
    fresh_clock = train.Clock()
    train.Trainer(model, cfg, steps_per_epoch=1, run_dir=tmp_path / "new", progress=False, quiet=True,
                  run_clock=fresh_clock).fit(batches, step, resume=True)
    assert fresh_clock.wall < 100.0                                         # nothing to resume: nothing credited
