"""Shared PyTorch building blocks: backbones, heads, the AlphaZero network, checkpoints and batched inference.

Every backbone exposes ``out_shape`` / ``out_dim`` and every head takes ``in_shape``, so any head fits any
backbone; configurations pick both by name (``build_model``, ``make_backbone``, ``make_head``). ``nets`` never
imports a game: the search and the learners meet it through ``PolicyValueEvaluator`` and plain arrays.
"""

from .base import Backbone, as_shape, num_parameters
from .checkpoint import (
    Checkpoint,
    CheckpointError,
    capture_rng,
    load_checkpoint,
    load_model,
    read_checkpoint,
    restore_rng,
    save_checkpoint,
)
from .cnn import ConvNet, LeNet, LeNetFeatures, NatureCNN
from .device import autocast, pick_device, prepare, unwrap
from .heads import (
    C51Head,
    ClassifierHead,
    DuelingQHead,
    LMHead,
    OwnershipHead,
    PolicyValueHead,
    PolicyValueOutput,
    QHead,
    ScoreHead,
    score_support,
)
from .inference import ILLEGAL_LOGIT, PolicyValueEvaluator, make_evaluator, predict
from .init import init_layer, init_norm, init_recurrent
from .mlp import MLP
from .model import Net
from .policy_value import TRUNKS, PolicyValueConfig, PolicyValueNet
from .precision import PRECISIONS, fold_batchnorm, native_bf16, resolve_precision
from .recurrent import GRU, LSTM, EncoderGRU, EncoderLSTM, Recurrent, RecurrentLM, detach_state
from .registry import (
    BACKBONES,
    HEADS,
    MODELS,
    NetConfigError,
    build_model,
    make_backbone,
    make_head,
    register_backbone,
    register_head,
    register_model,
)
from .resnet import ResidualBlock, ResNetTower
from .transformer import GPT, BoardTransformer, Transformer

__all__ = [
    "BACKBONES", "HEADS", "ILLEGAL_LOGIT", "MODELS", "PRECISIONS", "TRUNKS",
    "Backbone", "BoardTransformer", "C51Head", "Checkpoint", "CheckpointError", "ClassifierHead", "ConvNet",
    "DuelingQHead",
    "EncoderGRU", "EncoderLSTM", "GPT", "GRU", "LMHead", "LSTM", "LeNet", "LeNetFeatures", "MLP", "NatureCNN", "Net",
    "NetConfigError", "OwnershipHead", "ScoreHead", "score_support",
    "PolicyValueConfig", "PolicyValueEvaluator", "PolicyValueHead", "PolicyValueNet", "PolicyValueOutput", "QHead",
    "Recurrent", "RecurrentLM", "ResNetTower", "ResidualBlock", "Transformer",
    "as_shape", "autocast", "build_model", "capture_rng", "detach_state", "fold_batchnorm", "init_layer", "init_norm",
    "init_recurrent", "load_checkpoint", "load_model", "make_backbone", "make_evaluator", "make_head",
    "native_bf16", "num_parameters", "pick_device", "predict", "prepare", "read_checkpoint", "register_backbone",
    "register_head", "register_model", "resolve_precision", "restore_rng", "save_checkpoint", "unwrap",
]
