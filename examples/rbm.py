"""Restricted Boltzmann machines with binomial units, trained by contrastive divergence.

An RBM (Smolensky 1986; Hinton 2002, "Training products of experts by minimizing contrastive divergence",
Neural Computation 14) has visible units ``x`` and hidden units ``h``, weights ``W`` [H, V], visible biases
``b`` and hidden biases ``c``, energy ``E(x, h) = -b'x - c'h - h'Wx`` and free energy

    F(x) = -b'x - sum_i log(1 + exp(c_i + W_i x)),       P(x) = exp(-F(x)) / Z.

Both conditionals factorize: ``Q(h_i = 1 | x) = sigm(c_i + W_i x)`` and ``P(x_j = 1 | h) = sigm(b_j + W'_j h)``.

**CD-k** (Bengio 2009, "Learning Deep Architectures for AI", Algorithm ``RBMupdate``): from a training vector
``x1`` sample ``h1 ~ Q(h | x1)``, run ``k`` steps of alternating Gibbs sampling to ``x2`` (``x_{t+1} ~ P(x | h_t)``,
``h_{t+1} ~ Q(h | x_{t+1})``), then

    W <- W + eps (h1 x1' - Q(h2 = 1 | x2) x2'),    b <- b + eps (x1 - x2),    c <- c + eps (h1 - Q(h2 = 1 | x2)),

averaged over a mini-batch. ``mean_field=True`` uses the probabilities instead of the samples for ``h1`` and for
the reconstruction ``x2`` (the lower-variance choice of Hinton 2010, "A Practical Guide to Training RBMs").
``cd_gradients`` writes the negated update into ``.grad`` so any optimizer applies it: plain SGD with learning
rate ``eps`` is the rule above, SGD momentum and weight decay (on ``W`` only) are Hinton's options.

**PCD** (Tieleman 2008, "Training restricted Boltzmann machines using approximations to the likelihood
gradient", ICML): the negative statistics come from a fixed set of Markov chains (``PersistentChain``) that
continue from where the previous update left them instead of restarting at the data. CD-k only ever lowers the
free energy near the data and leaves regions far from it (dense states, say) untouched, where a chain started
anywhere else can be trapped; the persistent chains wander into such regions and the update raises their free
energy, so a long Gibbs run from a random start ends up near the data, as generation needs.

``label_units > 0`` makes the last visible units one softmax group (a one-of-K label): the top RBM of Hinton,
Osindero & Teh 2006 ("A fast learning algorithm for deep belief nets") learns the joint of the penultimate
features and the label, so clamping a label and Gibbs sampling at the top generates that digit.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def bernoulli(p: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Binary samples with ``P(1) = p``, drawn as ``U < p`` from ``generator`` (so tests can replay them)."""
    return (torch.rand(p.shape, generator=generator, device=p.device, dtype=p.dtype) < p).to(p.dtype)


def one_hot_sample(p: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One-of-K samples from the rows of ``p`` (a softmax group)."""
    index = torch.multinomial(p, 1, generator=generator)
    return torch.zeros_like(p).scatter_(1, index, 1.0)


class RBM(nn.Module):
    """Binomial-binomial RBM with ``visible`` x ``hidden`` weights (the last ``label_units`` visible ones a softmax)."""

    def __init__(self, visible: int, hidden: int, label_units: int = 0, init_std: float = 0.01):
        super().__init__()
        if visible < 1 or hidden < 1 or not 0 <= label_units < visible:
            raise ValueError(f"an RBM needs visible >= 1, hidden >= 1 and 0 <= label_units < visible, got "
                             f"{visible}, {hidden}, {label_units}")
        self.visible, self.hidden, self.label_units = visible, hidden, label_units
        # Small random weights (Hinton 2010, section 8): big ones make the hidden units start saturated.
        self.weight = nn.Parameter(torch.randn(hidden, visible) * init_std)     # W [H, V]
        self.visible_bias = nn.Parameter(torch.zeros(visible))                  # b [V]
        self.hidden_bias = nn.Parameter(torch.zeros(hidden))                    # c [H]

    def hidden_prob(self, x: torch.Tensor) -> torch.Tensor:                     # Q(h = 1 | x): [B, H]
        return torch.sigmoid(F.linear(x, self.weight, self.hidden_bias))

    def visible_prob(self, h: torch.Tensor) -> torch.Tensor:                    # P(x = 1 | h): [B, V]
        pre = h @ self.weight + self.visible_bias
        if not self.label_units:
            return torch.sigmoid(pre)
        k = self.label_units
        return torch.cat([torch.sigmoid(pre[:, :-k]), pre[:, -k:].softmax(dim=1)], dim=1)

    def sample_visible(self, p: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if not self.label_units:
            return bernoulli(p, generator)
        k = self.label_units
        return torch.cat([bernoulli(p[:, :-k], generator), one_hot_sample(p[:, -k:], generator)], dim=1)

    def free_energy(self, x: torch.Tensor) -> torch.Tensor:                     # F(x): [B]
        return -(x @ self.visible_bias) - F.softplus(F.linear(x, self.weight, self.hidden_bias)).sum(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden_prob(x)

    @torch.no_grad()
    def gibbs(self, x: torch.Tensor, steps: int, generator: torch.Generator | None = None,
              clamp: torch.Tensor | None = None) -> torch.Tensor:
        """``steps`` rounds of ``h ~ Q(h | x)``, ``x ~ P(x | h)``; the visible units where the boolean mask
        ``clamp`` is True keep their starting values. Returns the last visible probabilities."""
        start, p = x, x
        for _ in range(steps):
            p = self.visible_prob(bernoulli(self.hidden_prob(x), generator))
            x = self.sample_visible(p, generator)
            if clamp is not None:
                x = torch.where(clamp, start, x)
                p = torch.where(clamp, start, p)
        return p

    @torch.no_grad()
    def cd_gradients(self, x1: torch.Tensor, k: int = 1, generator: torch.Generator | None = None,
                     mean_field: bool = False, negative: torch.Tensor | None = None) -> dict:
        """Set ``.grad`` of W, b, c to minus the CD-k update (mean over the batch ``x1`` [B, V]).

        Returns the chain's ends (``h1``, ``x2``, ``q2`` = Q(h2 = 1 | x2)), ``state`` (the binary visible state
        the chain ended in) and the squared reconstruction error of the first step. The chain itself always runs
        on binary hidden states; ``mean_field`` replaces the sampled ``h1`` in the statistics and the sampled
        visible states by probabilities. ``negative`` [N, V] (binary visible states) starts the chain there
        instead of at the data: PCD (``PersistentChain``); ``reconstruction_error`` is then None.
        """
        if k < 1:
            raise ValueError(f"CD-k needs k >= 1, got {k}")
        q1 = self.hidden_prob(x1)
        h1 = q1 if mean_field else bernoulli(q1, generator)
        if negative is None:
            h = bernoulli(q1, generator) if mean_field else h1
        else:
            h = bernoulli(self.hidden_prob(negative), generator)
        reconstruction = None
        for t in range(k):
            p2 = self.visible_prob(h)
            if t == 0 and negative is None:
                reconstruction = p2
            x2 = p2 if mean_field else self.sample_visible(p2, generator)
            if t < k - 1:
                h = bernoulli(self.hidden_prob(x2), generator)
        q2 = self.set_cd_gradients(x1, h1, x2)
        state = self.sample_visible(p2, generator) if mean_field and negative is not None else x2
        error = None if reconstruction is None else (x1 - reconstruction).pow(2).sum(dim=1).mean()
        return {"h1": h1, "x2": x2, "q2": q2, "state": state, "reconstruction_error": error}

    @torch.no_grad()
    def set_cd_gradients(self, x1: torch.Tensor, h1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        """The update from a given chain: ``.grad`` = minus (<h1 x1'> - <Q(h2|x2) x2'>, <x1 - x2>,
        <h1 - Q(h2|x2)>), each side averaged over its own rows (the data batch ``x1``, ``h1``; the negative
        particles ``x2``, which PCD may have more or fewer of), so a descent step of rate eps adds eps times the CD
        statistics. Returns ``Q(h2 = 1 | x2)``."""
        q2 = self.hidden_prob(x2)
        n1, n2 = x1.shape[0], x2.shape[0]
        self.weight.grad = -(h1.t() @ x1 / n1 - q2.t() @ x2 / n2)
        self.visible_bias.grad = -(x1.mean(dim=0) - x2.mean(dim=0))
        self.hidden_bias.grad = -(h1.mean(dim=0) - q2.mean(dim=0))
        return q2

    @torch.no_grad()
    def random_visible(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` random visible states: each binary unit on with probability 1/2, a uniform label in the softmax
        group (where Gibbs sampling for generation starts, and where persistent chains start)."""
        p = torch.full((n, self.visible), 0.5, device=self.weight.device)
        if self.label_units:
            p[:, -self.label_units:] = 1.0 / self.label_units
        return self.sample_visible(p, generator)


class PersistentChain:
    """The fantasy particles of PCD (Tieleman 2008): ``chains`` binary visible states [N, V] that each update
    advances by ``k`` Gibbs steps and keeps for the next one. Started at random visible states on first use, so
    the chains begin where generation begins. ``state_dict`` / ``load_state_dict`` let a checkpoint keep them
    (``examples.train.Trainer``'s ``states``), so a resumed run continues the same chains."""

    def __init__(self, chains: int):
        if chains < 1:
            raise ValueError(f"PCD needs at least one chain, got {chains}")
        self.chains = chains
        self.state: torch.Tensor | None = None       # [N, V] binary visible states; None until the first update

    @torch.no_grad()
    def gradients(self, rbm: RBM, x1: torch.Tensor, k: int = 1, generator: torch.Generator | None = None,
                  mean_field: bool = False) -> dict:
        """``rbm.cd_gradients`` with the negative phase continuing the persistent chains; advances them."""
        if self.state is None:
            self.state = rbm.random_visible(self.chains, generator)
        self.state = self.state.to(x1.device)        # a checkpoint loads it on the CPU
        out = rbm.cd_gradients(x1, k, generator, mean_field=mean_field, negative=self.state)
        self.state = out["state"]
        return out

    def state_dict(self) -> dict:
        return {"chains": self.chains, "state": self.state}

    def load_state_dict(self, state: dict) -> None:
        self.chains, self.state = int(state["chains"]), state["state"]


def cd_update(rbm: RBM, x1: torch.Tensor, lr: float, k: int = 1, generator: torch.Generator | None = None,
              mean_field: bool = False) -> dict:
    """One plain CD-k step without momentum or weight decay: ``theta <- theta - lr * grad``."""
    out = rbm.cd_gradients(x1, k, generator, mean_field)
    with torch.no_grad():
        for p in (rbm.weight, rbm.visible_bias, rbm.hidden_bias):
            p -= lr * p.grad
    return out
