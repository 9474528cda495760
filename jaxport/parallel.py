"""Data parallelism: the same compiled training loop, its batches sharded over every device.

torch's ``DistributedDataParallel`` wraps a model, starts one process per device and all-reduces
gradients in backward hooks. In JAX nothing about the step changes: the batch axis of the data is
*placed* across a one-axis device mesh (``jax.sharding.NamedSharding`` with ``P(..., "batch", ...)``),
the training state is replicated, and ``jit`` compiles the same ``lax.scan`` for the mesh; XLA's SPMD
partitioner inserts the cross-device sums that a mean over the batch needs. The result is the
single-device result up to the order of those sums (checked against one device and against torch in
``parity_tests/test_parallel.py``, with 8 simulated CPU devices).

An example opts in with ``TrainingExample.batch_axes``: the data keys that hold a batch axis, and which axis
(E17's index of the images of each step, E21's likewise). A batch must divide evenly over the
devices; otherwise :func:`mesh` says so.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxport import training
from jaxport.errors import UsageError
from jaxport.spec import TrainingExample

AXIS = "batch"


def devices(device: str = "cpu") -> list[jax.Device]:
    """Every JAX device of a platform ('cpu' or 'gpu')."""
    training.jax_device(device)  # a clear error when there is none
    return jax.devices(device)


def require_batch(example: TrainingExample) -> None:
    """A clear error for an example with no batch axis to shard."""
    if not example.batch_axes:
        raise UsageError(f"{example.label} has no batch to shard (data-parallel runs: E17, E21, E28)")


def mesh(example: TrainingExample, data: Mapping[str, Any], devs: Sequence[jax.Device]) -> Mesh:
    """A one-axis ``("batch",)`` mesh over ``devs``, checked against the example's batch axes."""
    require_batch(example)
    for key, axis in example.batch_axes.items():
        size = np.shape(data[key])[axis]
        if size % len(devs):
            raise UsageError(f"{example.label}: a batch of {size} ({key!r} axis {axis}) does not divide over "
                             f"{len(devs)} devices: expected a device count that divides {size} "
                             f"(CUDA_VISIBLE_DEVICES, or XLA_FLAGS=--xla_force_host_platform_device_count=N on CPU)")
    return Mesh(np.array(devs), (AXIS,))


def shard(example: TrainingExample, data: Mapping[str, Any], m: Mesh) -> dict[str, jax.Array]:
    """``data`` on the mesh: each batch axis split over the devices, everything else replicated."""
    out = {}
    for key, value in data.items():
        spec = [None] * np.ndim(value)
        if key in example.batch_axes:
            spec[example.batch_axes[key]] = AXIS
        out[key] = place(value, NamedSharding(m, PartitionSpec(*spec)))
    return out


def place(value: Any, sharding: NamedSharding) -> jax.Array:
    """``value`` (the same NumPy array in every process) laid out as ``sharding``: each process hands
    its own devices their pieces, so it serves a mesh over one process's devices or over many
    (:mod:`jaxport.distributed`), where ``device_put`` could not reach another process's devices."""
    value = np.asarray(value)
    return jax.make_array_from_callback(value.shape, sharding, lambda index: value[index])


def replicate(tree: Mapping[str, Any], m: Mesh) -> dict[str, jax.Array]:
    """Every leaf whole on every device of the mesh (the training state)."""
    return {k: place(v, NamedSharding(m, PartitionSpec())) for k, v in tree.items()}


def placement(example: TrainingExample, device: str = "cpu", devs: Sequence[jax.Device] | None = None):
    """Where a data-parallel run puts things, for :func:`jaxport.harness.compare`'s ``placement``: the
    state replicated and each batch sharded over ``devs`` (default: every device of ``device``)."""
    devs = list(devs) if devs is not None else devices(device)

    def place(state: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[Any, dict[str, jax.Array]]:
        m = mesh(example, data, devs)
        return replicate(state, m), shard(example, data, m)

    return place


def train(example: TrainingExample, params: Mapping[str, np.ndarray], cfg: Any, *, device: str = "cpu",
          devs: Sequence[jax.Device] | None = None, report: Callable[[str], None] | None = None,
          chunk: int | None = None) -> training.TrainResult:
    """Train ``example`` from ``params`` (NumPy, in ``cfg.dtype``) with its batches sharded over ``devs``
    (default: every device of ``device``): the same step, scan and printed lines as
    :func:`jaxport.training.train`."""
    devs = list(devs) if devs is not None else devices(device)
    data = example.make_data(cfg)
    m = mesh(example, data, devs)
    state = replicate(example.state(params, cfg), m)
    return training.train_placed(example, state, shard(example, data, m), cfg, report=report, chunk=chunk)
