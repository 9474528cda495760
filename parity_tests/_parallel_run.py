"""Run in a subprocess with 8 simulated CPU devices (XLA_FLAGS is read once, when JAX starts):
one example trained data-parallel over all 8, on one device, and by its torch reference, from the
same values; prints the comparisons as JSON for parity_tests/test_parallel.py."""

import os
import sys

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
os.environ["JAX_PLATFORMS"] = "cpu"

import dataclasses  # noqa: E402
import json  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxport  # noqa: E402
from jaxport import catalog, harness, parallel, params, training  # noqa: E402
from jaxport.tolerances import tolerance  # noqa: E402


def main(example_id: str, dtype: str, overrides: dict) -> dict:
    jaxport.enable_x64()
    example = catalog.load(example_id)
    cfg = dataclasses.replace(example.config, dtype=dtype, **overrides)
    p0 = params.cast(example.init(), dtype)
    sharded = parallel.train(example, p0, cfg)
    single = training.train(example, p0, cfg)
    ref = harness.reference_module(example).train(p0, example.make_data(cfg), cfg)
    tol = tolerance(example.id, dtype, "free_running", "cpu")
    out = {"devices": len(jax.devices()), "steps": int(cfg.steps)}
    for name, other_losses, other_state in (("single", single.losses, single.params), ("torch", ref.losses, ref.params)):
        r = harness.compare_state(f"{example.label} [{dtype}/cpu x8]", f"sharded_vs_{name}", example,
                                  {k: np.asarray(v)[None] for k, v in sharded.params.items()},
                                  {k: np.asarray(v)[None] for k, v in other_state.items()}, np.array([cfg.steps]), tol)
        loss = harness.compare_trees(r.message.split(" sharded")[0], f"sharded_vs_{name}", {"loss": sharded.losses},
                                     {"loss": np.asarray(other_losses)}, np.arange(cfg.steps), tol)
        out[name] = {"passed": r.passed and loss.passed, "max_rel": max(r.max_rel, loss.max_rel),
                     "message": r.message if not r.passed else loss.message}
    # the compiled loop really is partitioned: its HLO sums the per-device pieces of the batch
    data = example.make_data(cfg)
    m = parallel.mesh(example, data, jax.devices())
    state = jax.device_put(example.state(p0), jax.sharding.NamedSharding(m, jax.sharding.PartitionSpec()))
    hlo = training.compiled_scan("cpu").lower(example.step, cfg, state, parallel.shard(example, data, m), jnp.int32(0), 2, True).compile().as_text()
    out["all_reduce"] = "all-reduce" in hlo
    shard = parallel.shard(example, data, m)[next(iter(example.batch_axes))]
    out["shard_shape"] = list(shard.addressable_shards[0].data.shape)
    out["global_shape"] = list(shard.shape)
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))))
