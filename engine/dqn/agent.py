"""The DQN learner and actor: Nature DQN and its improvements on one code path.

- Nature DQN (Mnih et al. 2015, Nature 518): ``y = r + gamma max_a' Q_target(s', a')``, Huber loss on
  ``y - Q(s, a)``, a target network copied every C steps, epsilon-greedy acting, clipped rewards.
- Double DQN (van Hasselt, Guez & Silver 2016): ``y = r + gamma Q_target(s', argmax_a' Q(s', a'))``.
- Dueling heads (Wang et al. 2016) and C51 (Bellemare, Dabney & Munos 2017) come from ``nets`` heads.
- n-step returns and prioritized replay (Schaul et al. 2016) come from ``ReplayBuffer``: the target uses the
  batch's ``returns`` and ``discounts`` (``gamma^n``, 0 after a terminal), the loss is weighted by the importance
  weights and the new priorities are ``|delta|`` (the cross-entropy for C51, as in Rainbow, Hessel et al. 2018).
- C51's target distribution is the projection of ``r + gamma^n z`` onto the fixed support ``z`` (Algorithm 1).
- DRQN (Hausknecht & Stone 2015): an LSTM over the backbone's features, trained on sampled sequences from a
  zero state ("bootstrapped random updates") with masked 1-step targets; the actor carries the state.
- DrQ (Kostrikov, Yarats & Fergus 2020): in the update, each image of the batch (observation and next
  observation, drawn separately) is shifted by up to +-``augment_pad`` pixels (pad with edge copies, random crop:
  ``random_shift``), optionally scaled in intensity as Dopamine's ``atari_100k_rainbow_agent.py`` does.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nets.precision import precision_autocast, resolve_precision

from .config import DQNConfig
from .replay import Batch, SequenceBatch

__all__ = ["DQNAgent", "categorical_projection", "q_learning_targets", "build_q_network", "network_config",
           "linear_schedule", "random_shift", "shift_images", "augment_images"]


def network_config(cfg: DQNConfig, obs_shape: tuple[int, ...], num_actions: int) -> dict:
    """The ``nets.build_model`` configuration of the Q-network for these observations and actions."""
    n = cfg.net
    kind = n.backbone
    if kind == "auto":
        kind = "nature_cnn" if len(obs_shape) == 3 else "mlp"
    # With a dueling or distributional-dueling head the hidden layer moves into each stream (Wang et al. 2016).
    split_hidden = n.dueling and not n.recurrent
    if kind == "nature_cnn":
        backbone = {"name": "nature_cnn", "in_shape": list(obs_shape), "hidden": 0 if split_hidden else n.hidden}
        stream_hidden = n.hidden if split_hidden else 0
    else:
        backbone = {"name": "mlp", "in_shape": list(obs_shape), "widths": list(n.mlp_widths)}
        stream_hidden = 0
    if n.recurrent:
        backbone = {"name": "encoder_lstm", "encoder": backbone, "hidden": n.lstm_hidden}
    if n.distributional:
        head = {"name": "c51", "num_actions": num_actions, "atoms": n.atoms, "v_min": n.v_min, "v_max": n.v_max,
                "hidden": stream_hidden, "dueling": n.dueling}
    elif n.dueling:
        head = {"name": "dueling_q", "num_actions": num_actions, "hidden": stream_hidden}
    else:
        head = {"name": "q", "num_actions": num_actions}
    return {"name": "net", "backbone": backbone, "head": head}


def build_q_network(cfg: DQNConfig, obs_shape: tuple[int, ...], num_actions: int) -> nn.Module:
    import nets

    return nets.build_model(network_config(cfg, obs_shape, num_actions))


def q_learning_targets(returns: torch.Tensor, discounts: torch.Tensor, next_q_target: torch.Tensor,
                       next_q_online: torch.Tensor | None = None) -> torch.Tensor:
    """``y = G + discount * Q_target(s', a*)`` with ``a* = argmax Q_target`` (DQN) or ``argmax Q_online`` (Double)."""
    chooser = next_q_target if next_q_online is None else next_q_online
    best = chooser.argmax(dim=-1, keepdim=True)
    return returns + discounts * next_q_target.gather(-1, best).squeeze(-1)


def categorical_projection(next_probs: torch.Tensor, returns: torch.Tensor, discounts: torch.Tensor,
                           support: torch.Tensor) -> torch.Tensor:
    """Project the distribution of ``G + discount * Z`` (``Z ~ next_probs[B, atoms]`` on ``support``) onto
    ``support`` (Bellemare et al. 2017, Algorithm 1): each shifted atom splits its mass between its two
    neighbouring support points in proportion to closeness; atoms beyond the ends go to the ends."""
    atoms = support.shape[0]
    v_min, v_max = float(support[0]), float(support[-1])
    delta = (v_max - v_min) / (atoms - 1)
    shifted = (returns.unsqueeze(-1) + discounts.unsqueeze(-1) * support).clamp(v_min, v_max)  # [B, atoms]
    position = (shifted - v_min) / delta
    lower = position.floor().long().clamp(0, atoms - 1)
    upper = position.ceil().long().clamp(0, atoms - 1)
    weight_upper = position - lower.float()
    # An atom that lands exactly on a support point (lower == upper) keeps all its mass there.
    weight_lower = torch.where(lower == upper, torch.ones_like(position), upper.float() - position)
    projected = torch.zeros_like(next_probs)
    projected.scatter_add_(-1, lower, next_probs * weight_lower)
    projected.scatter_add_(-1, upper, next_probs * torch.where(lower == upper, torch.zeros_like(position),
                                                                weight_upper))
    return projected


def shift_images(images: torch.Tensor, offsets: torch.Tensor, pad: int) -> torch.Tensor:
    """Images ``[B, C, H, W]`` padded by ``pad`` pixels (edge copies) and cropped back to ``H x W`` at
    ``offsets[B, 2]`` (row, column) in ``[0, 2 pad]``: image b moves by ``pad - offsets[b]`` pixels, the same
    shift for all its channels (the frames of one stack move together). Offset ``(pad, pad)`` is the identity."""
    if pad == 0:
        return images
    b, c, h, w = images.shape
    padded = F.pad(images, (pad, pad, pad, pad), mode="replicate")          # [B, C, H + 2 pad, W + 2 pad]
    rows = offsets[:, 0, None] + torch.arange(h, device=images.device)      # [B, H]
    cols = offsets[:, 1, None] + torch.arange(w, device=images.device)      # [B, W]
    batch = torch.arange(b, device=images.device)[:, None, None, None]
    channel = torch.arange(c, device=images.device)[None, :, None, None]
    return padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]


def random_shift(images: torch.Tensor, pad: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """DrQ's random shift: every image of the batch moves by its own uniform ``(dy, dx)`` in ``[-pad, pad]``."""
    if pad == 0:
        return images
    offsets = torch.randint(0, 2 * pad + 1, (images.shape[0], 2), generator=generator, device=images.device)
    return shift_images(images, offsets, pad)


def augment_images(images: torch.Tensor, pad: int, intensity: float,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Byte images ``[B, C, H, W]`` -> floats in [0, 1], randomly shifted (``pad``) and scaled in intensity by
    ``1 + intensity * clip(N(0, 1), -2, 2)`` per image (Dopamine's DrQ; 0 turns either off)."""
    x = images.float().div_(255.0) if images.dtype == torch.uint8 else images.float()
    x = random_shift(x, pad, generator)
    if intensity > 0:
        noise = torch.randn((x.shape[0], 1, 1, 1), generator=generator, device=x.device).clamp_(-2.0, 2.0)
        x = x * (1.0 + intensity * noise)
    return x


def _td_loss(td: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "huber":
        return F.huber_loss(td, torch.zeros_like(td), reduction="none", delta=1.0)
    return 0.5 * td * td


class DQNAgent:
    """Online and target Q-networks, the optimizer, epsilon-greedy acting and the learning step."""

    def __init__(self, cfg: DQNConfig, obs_shape: tuple[int, ...], num_actions: int, device: torch.device | str):
        self.cfg = cfg
        self.obs_shape = tuple(obs_shape)
        self.num_actions = int(num_actions)
        self.device = torch.device(device)
        self.precision = resolve_precision(cfg.run.precision, self.device)  # of the learning step
        self.online = build_q_network(cfg, self.obs_shape, num_actions).to(self.device)
        self.target = copy.deepcopy(self.online).requires_grad_(False)
        self.recurrent = bool(cfg.net.recurrent)
        self.distributional = bool(cfg.net.distributional)
        self.optimizer = self._make_optimizer()
        self.updates = 0
        self.state = None  # DRQN: the actor's LSTM state, one row per environment
        t = cfg.train
        self.augment = len(self.obs_shape) == 3 and (t.augment_pad > 0 or t.augment_intensity > 0)
        # The shifts draw from torch's global generator, which the Trainer seeds and its checkpoints restore.

    def _make_optimizer(self) -> torch.optim.Optimizer:
        t = self.cfg.train
        params = self.online.parameters()
        if t.optimizer == "adam":
            # fused: one kernel for the whole parameter set (5x faster than the per-tensor loop on a CPU)
            return torch.optim.Adam(params, lr=t.lr, eps=t.adam_eps, fused=True)
        return torch.optim.RMSprop(params, lr=t.lr, alpha=t.rmsprop_alpha, eps=t.rmsprop_eps,
                                   centered=t.rmsprop_centered, foreach=True)

    # -- acting ---------------------------------------------------------------------------------------------------

    def _as_input(self, obs: np.ndarray | torch.Tensor, lead: int) -> torch.Tensor:
        x = torch.as_tensor(obs)
        x = x.reshape(*x.shape[:lead], *self.obs_shape)
        return x.to(self.device, non_blocking=True) if x.device != self.device else x

    @torch.inference_mode()
    def greedy_q(self, obs: np.ndarray) -> np.ndarray:
        """Q-values ``[N, A]`` of a batch of observations (DRQN: one step, carrying ``self.state``)."""
        head = self.online.head
        if self.recurrent:
            x = self._as_input(obs, 1).unsqueeze(1)  # [N, 1, *obs]
            out, self.state = self.online(x, self.state)
            return head.q_values(out[:, 0]).float().cpu().numpy()
        return head.q_values(self.online(self._as_input(obs, 1))).float().cpu().numpy()

    def act(self, obs: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
        """Epsilon-greedy actions for a batch of observations."""
        n = obs.shape[0]
        explore = rng.random(n) < epsilon
        random_actions = rng.integers(0, self.num_actions, size=n)
        if explore.all() and not self.recurrent:
            return random_actions
        greedy = self.greedy_q(obs).argmax(axis=1)
        return np.where(explore, random_actions, greedy).astype(np.int64)

    def reset_state(self, starts: np.ndarray) -> None:
        """DRQN: zero the LSTM state of the environments whose observation opens an episode."""
        if not self.recurrent or self.state is None:
            return
        keep = torch.as_tensor(~np.asarray(starts, bool), dtype=torch.float32, device=self.device).view(1, -1, 1)
        self.state = tuple(s * keep for s in self.state) if isinstance(self.state, tuple) else self.state * keep

    # -- learning -------------------------------------------------------------------------------------------------

    def learn(self, batch: Batch | SequenceBatch) -> tuple[dict, np.ndarray]:
        """One gradient step; returns statistics and the new priorities (``|TD error|`` or the C51 loss)."""
        self.online.train()
        with precision_autocast(self.device, self.precision):  # the losses take the networks' outputs as fp32
            if self.recurrent:
                loss, priorities, q_mean = self._drqn_loss(batch)
            elif self.distributional:
                loss, priorities, q_mean = self._c51_loss(batch)
            else:
                loss, priorities, q_mean = self._dqn_loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        loss = loss.detach()
        grad_norm = float("nan")
        if self.cfg.train.max_grad_norm > 0:
            grad_norm = float(nn.utils.clip_grad_norm_(self.online.parameters(), self.cfg.train.max_grad_norm))
        self.optimizer.step()
        self.updates += 1
        return {"loss": loss.item(), "q_mean": q_mean, "grad_norm": grad_norm}, priorities

    @torch.no_grad()
    def priorities(self, batch: Batch) -> np.ndarray:
        """Priorities of transitions without learning from them: ``|TD error|`` (C51: the cross-entropy) under
        the current online and target networks; Ape-X actors send these with their transitions."""
        if self.recurrent:
            raise ValueError("priorities of single transitions need a feed-forward Q-network (net.recurrent is on)")
        _, priorities, _ = (self._c51_loss if self.distributional else self._dqn_loss)(batch)
        return priorities

    def _tensors(self, batch: Batch):
        dev = self.device
        obs = self._as_input(batch.obs, 1)
        next_obs = self._as_input(batch.next_obs, 1)
        if self.augment:  # DrQ: observation and next observation get independent shifts (as in Dopamine)
            t = self.cfg.train
            obs = augment_images(obs, t.augment_pad, t.augment_intensity)
            next_obs = augment_images(next_obs, t.augment_pad, t.augment_intensity)
        actions = torch.as_tensor(batch.actions, device=dev)
        returns = torch.as_tensor(batch.returns, device=dev)
        discounts = torch.as_tensor(batch.discounts, device=dev)
        weights = torch.as_tensor(batch.weights, device=dev)
        return obs, next_obs, actions, returns, discounts, weights

    def _dqn_loss(self, batch: Batch):
        obs, next_obs, actions, returns, discounts, weights = self._tensors(batch)
        head = self.online.head
        q = head.q_values(self.online(obs)).float()                            # [B, A]
        q_taken = q.gather(1, actions.unsqueeze(1)).squeeze(1)                  # [B]
        with torch.no_grad():
            next_q_target = self.target.head.q_values(self.target(next_obs)).float()
            next_q_online = head.q_values(self.online(next_obs)).float() if self.cfg.train.double else None
            targets = q_learning_targets(returns, discounts, next_q_target, next_q_online)
        td = targets - q_taken
        loss = (weights * _td_loss(td, self.cfg.train.loss)).mean()
        return loss, td.detach().abs().cpu().numpy(), float(q_taken.detach().mean())

    def _c51_loss(self, batch: Batch):
        obs, next_obs, actions, returns, discounts, weights = self._tensors(batch)
        head = self.online.head
        logits = self.online(obs).float()                                       # [B, A, atoms]
        log_probs = logits.log_softmax(-1)[torch.arange(logits.shape[0], device=self.device), actions]
        with torch.no_grad():
            next_probs = self.target.head.probabilities(self.target(next_obs).float())  # [B, A, atoms]
            support = head.support
            chooser = (head.q_values(self.online(next_obs).float()) if self.cfg.train.double
                       else (next_probs * support).sum(-1))
            best = chooser.argmax(-1)
            chosen = next_probs[torch.arange(next_probs.shape[0], device=self.device), best]
            projected = categorical_projection(chosen, returns, discounts, support)
            q_taken = (log_probs.exp() * support).sum(-1)
        cross_entropy = -(projected * log_probs).sum(-1)                        # [B]
        loss = (weights * cross_entropy).mean()
        return loss, cross_entropy.detach().cpu().numpy(), float(q_taken.mean())

    def _drqn_loss(self, batch: SequenceBatch):
        dev = self.device
        obs = self._as_input(batch.obs, 2)                                      # [B, T + 1, *obs]
        actions = torch.as_tensor(batch.actions, device=dev)                    # [B, T]
        rewards = torch.as_tensor(batch.rewards, device=dev)
        discounts = torch.as_tensor(batch.discounts, device=dev)
        mask = torch.as_tensor(batch.mask, device=dev)
        head = self.online.head
        out, _ = self.online(obs)                                               # [B, T + 1, A]
        q = head.q_values(out.float())
        q_taken = q[:, :-1].gather(2, actions.unsqueeze(2)).squeeze(2)         # [B, T]
        with torch.no_grad():
            target_out, _ = self.target(obs)
            next_q_target = self.target.head.q_values(target_out.float())[:, 1:]
            next_q_online = q[:, 1:].detach() if self.cfg.train.double else None
            targets = q_learning_targets(rewards, discounts, next_q_target, next_q_online)
        td = (targets - q_taken) * mask
        loss = (_td_loss(td, self.cfg.train.loss) * mask).sum() / mask.sum().clamp(min=1.0)
        priorities = td.detach().abs().sum(1).cpu().numpy()
        return loss, priorities, float((q_taken.detach() * mask).sum() / mask.sum().clamp(min=1.0))

    @torch.no_grad()
    def sync_target(self, tau: float = 1.0) -> None:
        """Hard copy (``tau = 1``) or Polyak average of the online weights into the target network."""
        if tau >= 1.0:
            self.target.load_state_dict(self.online.state_dict())
            return
        for target, online in zip(self.target.parameters(), self.online.parameters(), strict=True):
            target.lerp_(online, tau)


def linear_schedule(start: float, end: float, duration: int, step: int) -> float:
    """``start`` -> ``end`` linearly over ``duration`` steps, then ``end``."""
    if duration <= 0:
        return end
    fraction = min(1.0, max(0.0, step / duration))
    return start + fraction * (end - start)

