"""Run in a subprocess with 8 simulated CPU devices (XLA_FLAGS is read once, when JAX starts):
one example trained data-parallel over all 8 and compared with its torch reference by the harness,
the same verdict as on one device (harness.compare with parallel.placement); prints it as JSON for
parity_tests/test_parallel.py."""

import os
import sys

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
os.environ["JAX_PLATFORMS"] = "cpu"

import dataclasses  # noqa: E402
import json  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import jaxport  # noqa: E402
from jaxport import catalog, harness, parallel, params, training  # noqa: E402


def main(example_id: str, dtype: str, overrides: dict) -> dict:
    jaxport.enable_x64()
    example = catalog.load(example_id)
    cfg = dataclasses.replace(example.config, dtype=dtype, **overrides)
    p0 = params.cast(example.init(), dtype)
    c = harness.compare(example, p0, dtype=dtype, placement=parallel.placement(example), **overrides)
    out = {"devices": len(jax.devices()), "steps": int(cfg.steps),
           "torch": {"passed": c.passed, "regimes": [r.as_dict() for r in c.regimes],
                     "message": "; ".join(r.message for r in c.regimes if not r.passed)}}
    # the compiled loop really is partitioned: its HLO sums the per-device pieces of the batch
    data = example.make_data(cfg)
    m = parallel.mesh(example, data, jax.devices())
    state = jax.device_put(example.state(p0, cfg), jax.sharding.NamedSharding(m, jax.sharding.PartitionSpec()))
    hlo = training.compiled_scan("cpu").lower(example.train_step, cfg, state, parallel.shard(example, data, m), jnp.int32(0), 2, True).compile().as_text()
    out["all_reduce"] = "all-reduce" in hlo
    shard = parallel.shard(example, data, m)[next(iter(example.batch_axes))]
    out["shard_shape"] = list(shard.addressable_shards[0].data.shape)
    out["global_shape"] = list(shard.shape)
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))))
