"""Recurrent backbones: stacked LSTM and GRU, optionally bidirectional, with explicit state.

LSTM: Hochreiter & Schmidhuber 1997 (Neural Computation 9), with forget gates (Gers et al. 2000); GRU: Cho et
al. 2014 (arXiv:1406.1078). Both wrap cuDNN-backed ``torch.nn.LSTM`` / ``GRU`` (``batch_first``).

State is explicit so a model can run a sequence at once or step by step and get the same numbers:
``forward(x[B, T, I], state) -> (y[B, T, H*dirs], state)`` and ``step(x[B, I], state) -> (y[B, H], state)``.
``initial_state(B)`` gives zeros; ``detach_state`` cuts the graph between chunks (truncated backpropagation
through time). A bidirectional network reads the future, so it has no ``step``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from . import init
from .base import Backbone, as_shape
from .heads import LMHead
from .registry import make_backbone, register_backbone, register_model, remember_config

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]
"""GRU: ``h[layers*dirs, B, H]``; LSTM: ``(h, c)``, each ``[layers*dirs, B, H]``."""


class Recurrent(Backbone):
    """Shared code of ``LSTM`` and ``GRU``; ``out_shape = (hidden * directions,)`` per time step."""

    cell: type[nn.RNNBase]
    is_recurrent = True

    def __init__(self, in_shape: int | Sequence[int], hidden: int = 128, layers: int = 1, bidirectional: bool = False,
                 dropout: float = 0.0):
        super().__init__()
        remember_config(self, self.registry_name, dict(in_shape=in_shape, hidden=hidden, layers=layers,
                                                       bidirectional=bidirectional, dropout=dropout))
        self.in_dim = as_shape(in_shape)[-1]
        self.hidden, self.layers, self.bidirectional = hidden, layers, bidirectional
        self.directions = 2 if bidirectional else 1
        # torch applies dropout between stacked layers only; with one layer it would warn and do nothing.
        self.rnn = init.init_recurrent(self.cell(self.in_dim, hidden, layers, batch_first=True,
                                                 dropout=dropout if layers > 1 else 0.0, bidirectional=bidirectional))
        self.out_shape = (hidden * self.directions,)

    def initial_state(self, batch_size: int, device: torch.device | str | None = None,
                      dtype: torch.dtype | None = None) -> State:
        param = next(self.parameters())
        zeros = torch.zeros(self.layers * self.directions, batch_size, self.hidden,
                            device=device or param.device, dtype=dtype or param.dtype)
        return (zeros, zeros.clone()) if self.cell is nn.LSTM else zeros

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        return self.rnn(x, state)                        # (B, T, I) -> (B, T, H*dirs), state

    def step(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """One time step: ``x[B, I]`` -> ``(y[B, H], state)``; equal to the matching slice of ``forward``."""
        if self.bidirectional:
            raise ValueError("a bidirectional network reads the whole sequence; it cannot run step by step")
        y, state = self.rnn(x.unsqueeze(1), state)
        return y.squeeze(1), state


def detach_state(state: State | None) -> State | None:
    """The same state cut from the graph (truncated backpropagation through time)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def _as_tuple(state: State) -> tuple[torch.Tensor, ...]:
    return state if isinstance(state, tuple) else (state,)


@register_backbone("lstm")
class LSTM(Recurrent):
    """Stacked LSTM: ``in_shape`` (input features), ``hidden``, ``layers``, ``bidirectional``, ``dropout``."""

    cell = nn.LSTM


@register_backbone("gru")
class GRU(Recurrent):
    """Stacked GRU: ``in_shape`` (input features), ``hidden``, ``layers``, ``bidirectional``, ``dropout``."""

    cell = nn.GRU


RECURRENT = {"lstm": LSTM, "gru": GRU}


class EncoderRecurrent(Backbone):
    """A per-time-step encoder (any backbone) followed by a recurrent layer: observations -> memory.

    The recurrent Q-network of DRQN (Hausknecht & Stone 2015, arXiv:1507.06527) and R2D2 (Kapturowski et al.
    2019): ``forward(x[B, T, *obs], state) -> (y[B, T, hidden], state)``; ``step(x[B, *obs], state)`` runs one
    time step. ``encoder`` is a backbone configuration (``{"name": "nature_cnn", ...}``); its output is flattened.
    """

    cell: str
    is_recurrent = True

    def __init__(self, encoder: Mapping | str, hidden: int = 256, layers: int = 1):
        super().__init__()
        self.encoder = make_backbone(encoder)
        remember_config(self, self.registry_name, dict(encoder=self.encoder.config, hidden=hidden, layers=layers))
        self.rnn = RECURRENT[self.cell](self.encoder.out_dim, hidden, layers)
        self.hidden = hidden
        self.out_shape = (hidden,)

    def initial_state(self, batch_size: int, device=None, dtype=None) -> State:
        return self.rnn.initial_state(batch_size, device, dtype)

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        b, t = x.shape[:2]
        features = self.encoder(x.reshape(b * t, *x.shape[2:])).reshape(b, t, -1)   # (B, T, F)
        return self.rnn(features, state)                                             # (B, T, hidden)

    def step(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        y, state = self(x.unsqueeze(1), state)
        return y.squeeze(1), state


@register_backbone("encoder_lstm")
class EncoderLSTM(EncoderRecurrent):
    """``encoder`` then an LSTM (``hidden`` units, ``layers``)."""

    cell = "lstm"


@register_backbone("encoder_gru")
class EncoderGRU(EncoderRecurrent):
    """``encoder`` then a GRU (``hidden`` units, ``layers``)."""

    cell = "gru"


@register_model("rnn_lm")
class RecurrentLM(nn.Module):
    """Character/word language model: embedding -> LSTM or GRU -> LM head.

    ``forward(tokens[B, T], state) -> (logits[B, T, V], state)``; ``tie_weights`` shares the embedding with the
    output layer (needs ``embed_dim == hidden``).
    """

    def __init__(self, vocab_size: int, cell: str = "lstm", embed_dim: int = 128, hidden: int = 256, layers: int = 2,
                 dropout: float = 0.0, tie_weights: bool = False):
        super().__init__()
        remember_config(self, "rnn_lm", dict(vocab_size=vocab_size, cell=cell, embed_dim=embed_dim, hidden=hidden,
                                             layers=layers, dropout=dropout, tie_weights=tie_weights))
        if cell not in RECURRENT:
            raise ValueError(f"unknown cell {cell!r}; known: {', '.join(RECURRENT)}")
        if tie_weights and embed_dim != hidden:
            raise ValueError(f"tied weights need embed_dim == hidden, got {embed_dim} and {hidden}")
        self.vocab_size = vocab_size
        self.embed = init.init_layer(nn.Embedding(vocab_size, embed_dim))
        self.dropout = nn.Dropout(dropout)
        self.rnn = RECURRENT[cell](embed_dim, hidden, layers, dropout=dropout)
        self.head = LMHead(hidden, vocab_size, bias=True)
        if tie_weights:
            self.head.tie(self.embed)

    def initial_state(self, batch_size: int, device=None) -> State:
        return self.rnn.initial_state(batch_size, device)

    def forward(self, tokens: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        y, state = self.rnn(self.dropout(self.embed(tokens)), state)
        return self.head(self.dropout(y)), state

    @torch.inference_mode()
    def generate(self, tokens: torch.Tensor, steps: int, temperature: float = 1.0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Append ``steps`` sampled tokens to the prompt ``tokens[B, T]`` (T >= 1), carrying the state."""
        logits, state = self(tokens)
        out = [tokens]
        for _ in range(steps):
            last = logits[:, -1].float()
            if temperature <= 0:
                nxt = last.argmax(dim=-1, keepdim=True)
            else:
                nxt = torch.multinomial((last / temperature).softmax(dim=-1), 1, generator=generator)
            out.append(nxt)
            logits, state = self(nxt, state)
        return torch.cat(out, dim=1)
