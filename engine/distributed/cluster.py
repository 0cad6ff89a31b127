"""Starting or joining Ray, and the per-process setup of an actor.

``connect(section)`` uses a Ray already initialised in this process (tests share one), else joins the cluster
named by ``ray.address`` (``auto``, ``host:port``) or ``RAY_ADDRESS``, else starts a local Ray with the CPUs the
actors need and the GPUs the learner does not keep.
"""

from __future__ import annotations

import math
import os
import time

from ..cli import UserError, tune_allocator
from .config import RaySection


def connect(section: RaySection) -> dict:
    """Initialise Ray for ``section``; returns the cluster's resources."""
    import ray

    if not ray.is_initialized():
        address = section.address or os.environ.get("RAY_ADDRESS") or None
        try:
            if address is not None:
                ray.init(address=address, include_dashboard=False, log_to_driver=True)
            else:
                cpus = section.local_cpus or max(1, math.ceil(section.actors * section.num_cpus))
                ray.init(num_cpus=cpus, num_gpus=max(0, _local_gpus() - section.learner_gpus),
                         include_dashboard=False)
        except (ConnectionError, ValueError, RuntimeError) as err:
            raise UserError(f"ray: cannot {'join ' + address if address else 'start a local Ray'}: {err}") from None
    resources = ray.cluster_resources()
    need_cpu = section.actors * section.num_cpus
    need_gpu = section.actors * section.num_gpus
    if need_cpu > resources.get("CPU", 0) or need_gpu > resources.get("GPU", 0):
        raise UserError(f"ray: {section.actors} actors need {need_cpu:g} CPUs and {need_gpu:g} GPUs, the cluster has "
                        f"{resources.get('CPU', 0):g} CPUs and {resources.get('GPU', 0):g} GPUs (lower ray.actors, "
                        f"ray.num_cpus or ray.num_gpus)")
    return resources


def _local_gpus() -> int:
    try:
        import torch

        return torch.cuda.device_count()
    except Exception:  # pragma: no cover - torch is a dependency
        return 0


def actor_options(section: RaySection) -> dict:
    """Resources and restart policy of an actor (calls are retried by the driver, not by Ray: chunks are keyed)."""
    return {"num_cpus": section.num_cpus, "num_gpus": section.num_gpus, "max_restarts": section.max_restarts,
            "max_task_retries": 0}


def setup_actor_process(num_cpus: float) -> str:
    """Pin torch and OpenMP threads to the actor's CPUs; returns the device of its network copy."""
    threads = max(1, int(num_cpus))
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)
    tune_allocator()
    import ray

    gpus = ray.get_gpu_ids() if ray.is_initialized() else []
    return "cuda" if gpus and torch.cuda.is_available() else "cpu"


def await_restart(actor, timeout: float = 300.0, poll: float = 0.5) -> None:
    """Wait until Ray has restarted a dead actor and it answers a call; ``UserError`` if it never does.

    A call to an actor that is being restarted fails at once with ``ActorUnavailableError`` (calls are not
    retried by Ray here), so the driver asks again until the new process answers.
    """
    import ray
    from ray.exceptions import GetTimeoutError, RayActorError

    deadline = time.monotonic() + timeout
    while True:
        try:
            ray.get(actor.pid.remote(), timeout=max(poll, deadline - time.monotonic()))
            return
        except (RayActorError, GetTimeoutError) as err:
            if time.monotonic() > deadline:
                raise UserError(f"ray: an actor did not come back within {timeout:.0f} s after it died "
                                f"({type(err).__name__}; raise ray.max_restarts?)") from None
            time.sleep(poll)
