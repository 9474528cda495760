"""E08: DynamicNet — control flow as data, torch's draws replayed, an unused parameter left alone."""

import dataclasses
import json
import random

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxport import optim, params, training
from jaxport.cli import main
from jaxport.examples.e08_dynamic_net import port as e08
from jaxport.examples.e08_dynamic_net import reference as ref

from _helpers import assert_parity

STEPS = 3000  # the default run checks 3000 of the seed's 30000 steps; the full run is marked slow


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e08.EXAMPLE, dtype, device, steps=STEPS)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity_full_30000_steps(dtype, device):
    assert_parity(e08.EXAMPLE, dtype, device)


def test_orders_are_the_seeds_inclusive_randint():
    orders = e08.draw_orders(5, 1000)
    rng = random.Random(5)
    assert orders.tolist() == [rng.randint(4, 6) for _ in range(1000)]
    assert set(orders.tolist()) == {4, 5, 6}  # randint(4, 6) includes 6; jax.random.randint's max is exclusive


def _f64(cfg_steps=200, seed=1):
    cfg = dataclasses.replace(e08.CONFIG, dtype="float64", steps=cfg_steps, seed=seed)
    data = e08.make_data(cfg)
    state = e08.EXAMPLE.state(params.cast(e08.EXAMPLE.init(seed), "float64"), cfg)
    return cfg, data, state


def test_three_forms_are_the_same_function():
    """Eager Python control flow under jax.grad, masking and lax.switch: the same values and gradients
    (to float64 rounding: XLA fuses the jitted forms and may contract a*b+c into one FMA)."""
    cfg, data, state = _f64()
    p = {k: jnp.asarray(state[k]) for k in e08.NAMES}
    x = jnp.asarray(data["x"])
    for order in (4, 5, 6):
        eager = e08.predict_eager(p, x, order)
        np.testing.assert_allclose(jax.jit(e08.predict)(p, x, jnp.int32(order)), eager, rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(jax.jit(e08.predict_switch)(p, x, jnp.int32(order)), eager, rtol=1e-14, atol=1e-14)
        g_eager = jax.grad(lambda q: ((e08.predict_eager(q, x, order) - data["y"]) ** 2).sum())(p)
        g_mask = jax.grad(e08.loss_fn)(p, {**data, "orders": jnp.int32(order)})
        for k in e08.NAMES:
            np.testing.assert_allclose(g_mask[k], g_eager[k], rtol=1e-14, atol=1e-14, err_msg=f"order {order} grad {k}")
        assert (float(g_mask["e"]) == 0.0) == (order == 4)


def test_switch_and_mask_training_loops_agree():
    cfg, data, state = _f64()
    d = jax.tree.map(jnp.asarray, data)
    a, _ = training.scan_steps(e08.EXAMPLE.train_step, cfg, state, d, jnp.int32(0), cfg.steps)
    b, _ = training.scan_steps(e08.SWITCH.train_step, cfg, state, d, jnp.int32(0), cfg.steps)
    for k in a:
        np.testing.assert_allclose(np.asarray(a[k]), np.asarray(b[k]), rtol=1e-13, err_msg=k)


def test_absent_gradient_leaves_e_and_its_momentum_alone():
    """At an order-4 step e has no gradient: torch skips it, and so does the JAX step (a zero
    gradient fed to plain SGD would still move e by momentum * buffer)."""
    cfg, data, state = _f64(cfg_steps=3)
    data["orders"] = np.array([6, 4, 4], np.int32)
    d = jax.tree.map(jnp.asarray, data)
    s = jax.tree.map(jnp.asarray, state)
    s1, _ = e08.EXAMPLE.train_step(s, d, jnp.int32(0), cfg)
    s2, _ = e08.EXAMPLE.train_step(s1, d, jnp.int32(1), cfg)
    assert float(s2["e"]) == float(s1["e"]) and float(s2["momentum_buffer.e"]) == float(s1["momentum_buffer.e"])
    assert int(s2["count.e"]) == 1 and int(s2["count.a"]) == 2
    # plain optax-style SGD (no notion of absence) would have moved e
    opt = optim.sgd(cfg.lr, momentum=cfg.momentum)
    ps = {k: s1[k] for k in e08.NAMES}
    st = optim.SgdState({k: s1[f"count.{k}"] for k in e08.NAMES}, {k: s1[f"momentum_buffer.{k}"] for k in e08.NAMES})
    zero = {k: jnp.zeros_like(v) for k, v in ps.items()}
    upd, _ = opt.update(zero, st, ps)
    assert float(upd["e"]) != 0.0
    # and torch agrees: e after the two order-4 steps equals e after the first step
    run = ref.train(params.cast(e08.EXAMPLE.init(1), "float64"), data, cfg, record=True)
    assert run.states["e"][2] == run.states["e"][1] == run.states["e"][3]


def test_orders_file_and_bad_orders(capsys, tmp_path):
    good = tmp_path / "orders.json"
    good.write_text(json.dumps([6, 5, 4] * 100))
    assert main(["run", "E08", "--orders", str(good), "--steps", "300", "--json"]) == 0
    capsys.readouterr()
    for content, needle in [("[4, 7]", "expected a JSON list of orders 4, 5 or 6"), ("[4, 5]", "has 2 orders, the run has 300 steps"),
                            ("{", "cannot read it")]:
        bad = tmp_path / "bad.json"
        bad.write_text(content)
        assert main(["run", "E08", "--orders", str(bad), "--steps", "300"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and needle in err, err
    assert main(["run", "E03", "--orders", str(good)]) == 2
    assert "only E08" in capsys.readouterr().err


def test_seed_drives_init_and_orders_for_both_frameworks(capsys):
    docs = []
    for fw in ("jax", "torch"):
        assert main(["run", "E08", "--seed", "4", "--steps", "2000", "--framework", fw, "--json"]) == 0
        docs.append(json.loads(capsys.readouterr().out))
    for k in e08.NAMES:
        assert docs[0]["params"][k] == pytest.approx(docs[1]["params"][k], rel=1e-5, abs=1e-7)
