"""RBM contrastive divergence (a hand-computed CD-1 update, sampling order, free energy), the denoising
autoencoder, DBN/SDAE weight transfer into nets' MLP, and the shared training loop's schedules and resume."""

from __future__ import annotations

import math

import pytest
import torch

from engine.cli import UserError
from examples import pretrain, train
from examples.rbm import RBM, PersistentChain, bernoulli, cd_update
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


def _random_rbm_and_data():
    """A 6x4 RBM with N(0, 1) weights and 5 random binary rows (fixed seeds)."""
    torch.manual_seed(0)
    rbm = RBM(6, 4)
    with torch.no_grad():
        rbm.weight.normal_(0, 1)
    return rbm, bernoulli(torch.full((5, 6), 0.5), torch.Generator().manual_seed(1))


def test_cd1_sampling_replays_the_algorithm_step_by_step():
    rbm, x1 = _random_rbm_and_data()
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


def test_negative_statistics_average_over_their_own_particles():
    # PCD may run more chains than the batch has rows: each side of the update is its own mean.
    rbm = _hand_rbm()
    x1 = torch.tensor([[1.0, 0.0, 1.0]])
    h1 = torch.tensor([[1.0, 0.0]])
    x2 = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    q2 = rbm.set_cd_gradients(x1, h1, x2)
    # Q(h2 = 1 | x2) = [[3/4, 1/2], sigm([0, -ln 3]) = [1/2, 1/4]]
    torch.testing.assert_close(q2, torch.tensor([[0.75, 0.5], [0.5, 0.25]]))
    negative = (q2.t() @ x2) / 2                                   # [[3/8, 3/8, 0], [1/4, 1/4, 0]]
    torch.testing.assert_close(rbm.weight.grad, -(h1.t() @ x1 - negative), atol=1e-6, rtol=0)
    torch.testing.assert_close(rbm.visible_bias.grad, -torch.tensor([0.5, -0.5, 1.0]))
    torch.testing.assert_close(rbm.hidden_bias.grad, -torch.tensor([1.0 - 0.625, -0.375]))


def test_pcd_chains_carry_over_from_one_update_to_the_next():
    rbm, data = _random_rbm_and_data()
    chain = PersistentChain(3)
    gen = torch.Generator().manual_seed(7)
    first = chain.gradients(rbm, data, 1, gen)
    assert first["x2"].shape == (3, 6) and torch.equal(chain.state, first["x2"])
    assert first["reconstruction_error"] is None
    carried = chain.state.clone()
    weight = rbm.weight.detach().clone()
    # The second update, replayed by hand from the same random numbers: the negative phase starts at the state the
    # first one left (h ~ Q(h | carried), x2 ~ P(x | h)), not at the data.
    replay = torch.Generator().set_state(gen.get_state())
    second = chain.gradients(rbm, data, 1, gen)
    h1 = (torch.rand((5, 4), generator=replay) < torch.sigmoid(data @ weight.t())).float()
    h = (torch.rand((3, 4), generator=replay) < torch.sigmoid(carried @ weight.t())).float()
    x2 = (torch.rand((3, 6), generator=replay) < torch.sigmoid(h @ weight)).float()
    assert torch.equal(second["h1"], h1) and torch.equal(second["x2"], x2) and torch.equal(chain.state, x2)
    q2 = torch.sigmoid(x2 @ weight.t())
    torch.testing.assert_close(rbm.weight.grad, -(h1.t() @ data / 5 - q2.t() @ x2 / 3))
    # a checkpoint keeps the chains
    restored = PersistentChain(1)
    restored.load_state_dict(chain.state_dict())
    assert restored.chains == 3 and torch.equal(restored.state, chain.state)


def _fraction_of_gibbs_runs_reaching_the_data(persistent: bool) -> float:
    """Train an RBM on 5 sparse patterns (CD-1 or PCD-1, the DBN's top-RBM settings: momentum 0.9, a learning
    rate decaying linearly to 0), then run Gibbs chains from random visible states: the fraction that ends within
    5 bits of a training pattern."""
    patterns = bernoulli(torch.full((5, 100), 0.2), torch.Generator().manual_seed(11))
    data = patterns.repeat(12, 1)
    torch.manual_seed(0)
    rbm = RBM(100, 200)
    chain = PersistentChain(20)
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.SGD(rbm.parameters(), lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1 - step / 500)
    for _ in range(500):
        opt.zero_grad()
        if persistent:
            chain.gradients(rbm, data, 1, gen)
        else:
            rbm.cd_gradients(data, 1, gen)
        opt.step()
        sched.step()
    start = bernoulli(torch.full((100, 100), 0.5), torch.Generator().manual_seed(3))
    samples = (rbm.gibbs(start, 200, torch.Generator().manual_seed(4)) > 0.5).float()
    distance = (samples[:, None, :] - patterns[None]).abs().sum(dim=2).min(dim=1).values
    return (distance <= 5).float().mean().item()


def test_pcd_lets_gibbs_sampling_from_random_starts_reach_the_data_where_cd_leaves_traps():
    # CD-1 only shapes the free energy next to the data: about a third of the chains started at random stay in
    # states it never visited (the DBN's grey blobs). PCD's chains visit them and the update raises them.
    assert _fraction_of_gibbs_runs_reaching_the_data(persistent=True) >= 0.95
    assert _fraction_of_gibbs_runs_reaching_the_data(persistent=False) <= 0.85


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



def test_input_dropout_zeroes_pixels_and_keeps_the_mean():
    assert pretrain.input_dropout(0.0) is None
    drop = pretrain.input_dropout(0.2)
    x = torch.full((100, 784), 0.5)
    out = drop(x, torch.Generator().manual_seed(0))
    assert abs((out == 0).float().mean().item() - 0.2) < 0.01
    assert set(out.unique().tolist()) == {0.0, 0.5 / 0.8}             # survivors scaled by 1 / (1 - rate)
    assert torch.equal(out, drop(x, torch.Generator().manual_seed(0)))  # drawn from the given generator


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


def test_a_resumed_pcd_run_continues_the_same_chains(tmp_path):
    # A run stopped after its first epoch and resumed from the checkpoint ends exactly where an uninterrupted run
    # does: the checkpoint keeps the persistent chains (Trainer ``states``) with the weights and generators.
    cfg = train.TrainConfig(epochs=2, batch_size=20, optimizer="sgd", lr=0.05, momentum=0.5, scheduler="linear")
    data = _patterns()

    def run(folder, stop_after: int | None = None):
        torch.manual_seed(0)
        rbm, chain = RBM(12, 6), PersistentChain(7)
        gen = torch.Generator().manual_seed(1)
        trainer = train.Trainer(rbm, cfg, steps_per_epoch=3, run_dir=folder, generators={"chain": gen},
                                states={"persistent": chain}, progress=False, quiet=True)

        def batches(epoch):
            yield from data.split(20)

        def step(x):
            if stop_after is not None and trainer.step_count == stop_after:
                raise KeyboardInterrupt
            chain.gradients(rbm, x, 1, gen)
            return {}

        try:
            trainer.fit(batches, step, resume=True)
        except KeyboardInterrupt:
            pass
        return rbm, chain

    straight_rbm, straight_chain = run(tmp_path / "a")
    run(tmp_path / "b", stop_after=4)                       # stopped inside epoch 2: the checkpoint is epoch 1's
    resumed_rbm, resumed_chain = run(tmp_path / "b")
    assert torch.equal(resumed_chain.state, straight_chain.state)
    assert all(torch.equal(a, b) for a, b in zip(resumed_rbm.state_dict().values(),
                                                 straight_rbm.state_dict().values(), strict=True))
    fresh_rbm, _ = run(tmp_path / "c", stop_after=4)
    assert not torch.equal(fresh_rbm.weight, straight_rbm.weight)   # the stopped run really stopped early
