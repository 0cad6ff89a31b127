"""Supervised deep-learning examples on the shared backbones of ``nets``: MNIST (MLP, LeNet, a modern CNN), a deep
belief net, stacked denoising autoencoders, a DCGAN and character-level language models (LSTM, GRU, GPT).

Each example is a command (``python -m examples.mnist`` ...) built on ``examples.data`` (MNIST and text
loaders) and ``examples.train`` (the shared training loop with checkpoints and resume).
"""

from .data import CharCorpus, DataError, Mnist, load_mnist, random_affine, read_idx, write_idx
from .train import TrainConfig, Trainer, accuracy, fit_classifier

__all__ = ["CharCorpus", "DataError", "Mnist", "TrainConfig", "Trainer", "accuracy", "fit_classifier", "load_mnist",
           "random_affine", "read_idx", "write_idx"]
