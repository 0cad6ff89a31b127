"""The DQN learner, whole: DQN and its improvements (Double, dueling, prioritized, n-step, C51, DRQN,
Rainbow-style) on gymnasium and ALE, on one machine or with Ape-X actors on Ray.

- ``replay``: ``ReplayBuffer``, frames stored once, stacks and n-step returns built at sample time, Numba sum tree
- ``envs``: ``PRESETS`` / ``make_env``, the ``nature``, ``machado`` and ``atari100k`` Atari protocols, ale-py's C++
  vector env
- ``agent``: ``DQNAgent``, online and target networks from ``nets``, acting and the learning step
- ``config``: ``DQNConfig``, the typed configuration behind ``configs/*.yaml``
- ``trainer``: ``Trainer`` / ``evaluate``, the training loop, logs, checkpoints, exact resume
- ``apex``: ``ApexTrainer``, the same ``Trainer`` acting in Ray actors with Ape-X's per-actor epsilons
- ``scores``: ``human_normalized``, scores against the shipped Atari-57 table
- ``atari100k``: the published Atari 100k scores, our results, IQM and stratified-bootstrap intervals
- ``__main__``: the command, ``python -m engine.dqn``

Import from the modules (``from engine.dqn.trainer import Trainer``): this file imports nothing, so that
``python -m engine.dqn --help`` and its error messages do not wait for torch and gymnasium (measured: 0.6 s of
CPU for ``--help`` against 3.3 s when this file re-exported the modules).
"""
