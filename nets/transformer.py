"""Transformer: pre-LayerNorm blocks of multi-head self-attention and an MLP.

Vaswani et al. 2017, "Attention Is All You Need" (arXiv:1706.03762), with the LayerNorm moved in front of each
sub-layer (Xiong et al. 2020, arXiv:2002.04745; GPT-2, Radford et al. 2019) so deep stacks train without a
learning-rate warm-up: ``x = x + Attn(LN(x)); x = x + MLP(LN(x))``, a final LN at the end. The residual
projections start scaled by ``1 / sqrt(2 * depth)`` (GPT-2) so the residual stream does not grow with depth.

Three uses:

* ``Transformer``: the sequence backbone, ``[B, T, dim]`` embeddings -> ``[B, T, dim]``, causal or not, with
  learned or sinusoidal positions (``out_shape = (dim,)`` per token);
* ``GPT``: a decoder-only language model (tokens -> embeddings -> causal ``Transformer`` -> tied LM head);
* ``BoardTransformer``: a board encoder with one token per square (as Leela Chess Zero does): planes
  ``[B, C, H, W]`` -> ``[B, dim, H, W]``, so AlphaZero's policy/value head fits it like a ResNet tower.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from . import init
from .base import Backbone, as_shape
from .heads import LMHead
from .registry import register_backbone, register_model, remember_config

POSITIONS = ("learned", "sinusoidal", "none")


class SelfAttention(nn.Module):
    """Multi-head self-attention; ``causal=True`` lets position t see only positions <= t."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0, causal: bool = False, residual_scale: float = 1.0):
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        self.heads, self.causal, self.dropout = heads, causal, dropout
        self.qkv = init.init_layer(nn.Linear(dim, 3 * dim), "linear")
        self.proj = init.init_layer(nn.Linear(dim, dim), "linear")
        with torch.no_grad():
            self.proj.weight.mul_(residual_scale)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0,
                                           is_causal=self.causal)
        y = y.transpose(1, 2).reshape(b, t, d)                                                   # (B, T, D)
        return self.resid_dropout(self.proj(y))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: int = 4, dropout: float = 0.0, causal: bool = False,
                 residual_scale: float = 1.0):
        super().__init__()
        self.ln1 = init.init_norm(nn.LayerNorm(dim))
        self.attn = SelfAttention(dim, heads, dropout, causal, residual_scale)
        self.ln2 = init.init_norm(nn.LayerNorm(dim))
        fc2 = init.init_layer(nn.Linear(mlp_ratio * dim, dim), "linear")
        with torch.no_grad():
            fc2.weight.mul_(residual_scale)
        self.mlp = nn.Sequential(init.init_layer(nn.Linear(dim, mlp_ratio * dim), "gelu"), nn.GELU(), fc2,
                                 nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


def sinusoidal_positions(length: int, dim: int) -> torch.Tensor:
    """Vaswani et al. section 3.5: PE[p, 2i] = sin(p / 10000^(2i/dim)), PE[p, 2i+1] = cos(...)."""
    position = torch.arange(length, dtype=torch.float64)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq[: dim // 2])
    return table.float()


@register_backbone("transformer")
class Transformer(Backbone):
    """``[B, T, dim]`` -> ``[B, T, dim]`` for ``T <= max_len``; ``out_shape = (dim,)`` per token.

    Args:
        dim: model width; heads: attention heads; depth: blocks; max_len: longest sequence.
        causal: mask attention to earlier positions (a decoder) or not (an encoder).
        positions: ``learned`` (a trained table), ``sinusoidal`` (fixed) or ``none``.
        mlp_ratio: MLP width / dim; dropout: on attention weights, residual branches and embeddings.
    """

    def __init__(self, dim: int = 128, depth: int = 4, heads: int = 4, max_len: int = 256, causal: bool = False,
                 positions: str = "learned", mlp_ratio: int = 4, dropout: float = 0.0):
        super().__init__()
        remember_config(self, "transformer", dict(dim=dim, depth=depth, heads=heads, max_len=max_len, causal=causal,
                                                  positions=positions, mlp_ratio=mlp_ratio, dropout=dropout))
        if positions not in POSITIONS:
            raise ValueError(f"unknown positions {positions!r}; known: {', '.join(POSITIONS)}")
        self.dim, self.max_len, self.causal = dim, max_len, causal
        if positions == "learned":
            self.positions = nn.Parameter(torch.randn(max_len, dim) * dim ** -0.5)
        elif positions == "sinusoidal":
            self.register_buffer("positions", sinusoidal_positions(max_len, dim), persistent=False)
        else:
            self.positions = None
        self.dropout = nn.Dropout(dropout)
        scale = 1.0 / math.sqrt(2 * depth) if depth else 1.0
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio, dropout, causal, scale) for _ in range(depth)])
        self.ln_f = init.init_norm(nn.LayerNorm(dim))
        self.out_shape = (dim,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:   # (B, T, D) -> (B, T, D)
        t = x.shape[1]
        if t > self.max_len:
            raise ValueError(f"sequence of {t} tokens is longer than max_len {self.max_len}")
        if self.positions is not None:
            x = x + self.positions[:t]
        x = self.dropout(x)
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x)


@register_backbone("board_transformer")
class BoardTransformer(Backbone):
    """A board encoder: one token per square. ``[B, C, H, W]`` -> ``[B, dim, H, W]``.

    Each square's C plane values are embedded linearly, a (non-causal) ``Transformer`` mixes the ``H*W`` tokens,
    and the result is laid back out as maps so a spatial head (``PolicyValueHead``) fits it as it fits a ResNet.
    """

    def __init__(self, in_shape: Sequence[int], dim: int = 64, depth: int = 6, heads: int = 4,
                 positions: str = "learned", mlp_ratio: int = 4, dropout: float = 0.0):
        super().__init__()
        remember_config(self, "board_transformer", dict(in_shape=in_shape, dim=dim, depth=depth, heads=heads,
                                                        positions=positions, mlp_ratio=mlp_ratio, dropout=dropout))
        self.in_shape = as_shape(in_shape)
        if len(self.in_shape) != 3:
            raise ValueError(f"a board transformer takes planes (channels, height, width), got {self.in_shape}")
        c, h, w = self.in_shape
        self.embed = init.init_layer(nn.Linear(c, dim), "linear")
        self.encoder = Transformer(dim, depth, heads, h * w, causal=False, positions=positions, mlp_ratio=mlp_ratio,
                                   dropout=dropout)
        self.out_shape = (dim, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        tokens = self.embed(x.flatten(2).transpose(1, 2))              # (B, H*W, D): one token per square
        tokens = self.encoder(tokens)
        return tokens.transpose(1, 2).reshape(b, -1, h, w)             # (B, D, H, W)


@register_model("gpt")
class GPT(nn.Module):
    """Decoder-only language model: ``tokens[B, T]`` -> next-token logits ``[B, T, vocab_size]``.

    The LM head shares its weight with the token embedding (``tie_weights``), as GPT-2 does.
    """

    def __init__(self, vocab_size: int, max_len: int = 256, dim: int = 128, depth: int = 4, heads: int = 4,
                 positions: str = "learned", mlp_ratio: int = 4, dropout: float = 0.0, tie_weights: bool = True):
        super().__init__()
        remember_config(self, "gpt", dict(vocab_size=vocab_size, max_len=max_len, dim=dim, depth=depth, heads=heads,
                                          positions=positions, mlp_ratio=mlp_ratio, dropout=dropout,
                                          tie_weights=tie_weights))
        self.vocab_size, self.max_len = vocab_size, max_len
        self.embed = init.init_layer(nn.Embedding(vocab_size, dim))
        self.decoder = Transformer(dim, depth, heads, max_len, causal=True, positions=positions, mlp_ratio=mlp_ratio,
                                   dropout=dropout)
        self.head = LMHead(dim, vocab_size)
        if tie_weights:
            self.head.tie(self.embed)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:          # (B, T) int64 -> (B, T, V)
        return self.head(self.decoder(self.embed(tokens)))

    @torch.inference_mode()
    def generate(self, tokens: torch.Tensor, steps: int, temperature: float = 1.0, top_k: int | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Append ``steps`` sampled tokens to ``tokens[B, T]`` (the context is cut to the last ``max_len``)."""
        for _ in range(steps):
            logits = self(tokens[:, -self.max_len:])[:, -1].float()
            if temperature <= 0:
                next_token = logits.argmax(dim=-1, keepdim=True)
            else:
                logits = logits / temperature
                if top_k is not None and top_k < logits.shape[-1]:
                    kth = logits.topk(top_k, dim=-1).values[:, -1:]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                next_token = torch.multinomial(logits.softmax(dim=-1), 1, generator=generator)
            tokens = torch.cat([tokens, next_token], dim=1)
        return tokens
