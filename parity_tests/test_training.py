"""The one training loop's compile: jaxport's XLA options on CPU, what they change and what they keep."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxport import harness, params, training
from jaxport.examples.e03_polynomial_autograd import port as e03


def _e03_placed() -> tuple[dict, dict]:
    """E03's default state and data, on the CPU."""
    ex, cfg, cpu = e03.EXAMPLE, e03.CONFIG, jax.devices("cpu")[0]
    return jax.device_put(ex.state(params.cast(ex.init(), cfg.dtype)), cpu), jax.device_put(ex.make_data(cfg), cpu)


def _e03_loop_hlo() -> str:
    ex, cfg = e03.EXAMPLE, e03.CONFIG
    state, data = _e03_placed()
    return training.compiled_scan("cpu").lower(ex.train_step, cfg, state, data, jnp.int32(0), 10, True).compile().as_text()


def test_cpu_loop_sums_directly_without_reduce_window_partials():
    """Each of E03's five 2000-element sums is one reduce: no reduce-window partial sums (the tree
    rewriter's two extra kernels per sum, about 60% of a step's time here)."""
    hlo = _e03_loop_hlo()
    assert "reduce-window" not in hlo
    assert hlo.count(" reduce(") >= 5


def test_only_cpu_compiles_get_the_options():
    assert training.compiler_options("cpu") == {"xla_disable_hlo_passes": "tree_reduction_rewriter"}
    assert training.compiler_options("gpu") == {}
    assert training.platform_of({"x": jax.device_put(np.zeros(2), jax.devices("cpu")[0])}) == "cpu"


def test_direct_float32_sums_stay_as_accurate_as_the_tree():
    """The reason the pass can go: XLA CPU's direct reduce already sums in a tree-like tiling. A
    sequential float32 sum of 1e6 squares of uniform values is off by ~4e-4 relative; the direct
    reduce stays within a few ulp, as the rewritten one does."""
    v = np.random.default_rng(0).random(10**6).astype(np.float32)
    exact = float((v.astype(np.float64) ** 2).sum())
    sum_sq = training.jit(lambda a: (a * a).sum(), "cpu")
    x = jax.device_put(v, jax.devices("cpu")[0])
    assert "reduce-window" not in sum_sq.lower(x).compile().as_text()  # the direct reduce is what is measured
    assert abs(float(sum_sq(x)) - exact) / exact < 1e-6


def test_the_parity_regimes_compile_what_training_runs():
    """The harness's batched evaluation uses the same options: its E03 step equals the loop's bit for bit."""
    ex, cfg = e03.EXAMPLE, e03.CONFIG
    state, data = _e03_placed()
    looped, loss = training.scan_steps(ex.train_step, cfg, state, data, jnp.int32(0), 1, True)
    batched, aux = harness._batched(lambda d, p, t: ex.train_step(p, d, t, cfg), data,
                                  jax.tree.map(lambda a: a[None], state), jnp.zeros((1,), jnp.int32))
    for k in looped:
        np.testing.assert_array_equal(np.asarray(batched[k])[0], np.asarray(looped[k]), err_msg=k)
    # the two reductions give E03's loss (~1e3-1e5 at seeds 0-4) different last bits (absolute 0.002 to 0.1):
    # plain jax.jit in the harness would fail this
    np.testing.assert_array_equal(np.asarray(aux["loss"]), np.asarray(loss["loss"]))


def test_the_loop_still_nests_inside_a_users_jit():
    """Only the outermost jit may carry compiler options: traced, scan_steps compiles without its own."""
    ex, cfg = e03.EXAMPLE, e03.CONFIG
    state, data = _e03_placed()
    direct, _ = training.scan_steps(ex.train_step, cfg, state, data, jnp.int32(0), 5, True)
    nested, _ = jax.jit(lambda s, d: training.scan_steps(ex.train_step, cfg, s, d, jnp.int32(0), 5, True))(state, data)
    # only the start step traced; the state and data closed over, concrete
    closed, _ = jax.jit(lambda t: training.scan_steps(ex.train_step, cfg, state, data, t, 5, True))(jnp.int32(0))
    for k in direct:
        np.testing.assert_allclose(np.asarray(nested[k]), np.asarray(direct[k]), rtol=1e-6, err_msg=k)
        np.testing.assert_allclose(np.asarray(closed[k]), np.asarray(direct[k]), rtol=1e-6, err_msg=k)


def test_a_training_example_needs_a_step_or_something_to_derive_it_from():
    with pytest.raises(TypeError, match="needs a step, or an optimizer or update"):
        dataclasses.replace(e03.EXAMPLE, step=None)
    derived = dataclasses.replace(e03.EXAMPLE, step=None, update=lambda s, g, d, t, cfg: {k: s[k] - cfg.lr * g[k] for k in g})
    assert derived.has_update and not e03.EXAMPLE.has_update
