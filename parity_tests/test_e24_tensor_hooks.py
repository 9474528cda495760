"""E24: torch's register_hook / retain_grad against a custom_vjp identity and a zero perturbation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxport import harness, params
from jaxport.tolerances import tolerance
from jaxport.examples.e24_tensor_hooks import port as e24
from jaxport.examples.e24_tensor_hooks import reference as ref

from _helpers import assert_parity

LEAVES = e24.LEAVES
RTOL = {d: tolerance("E24", d, "direct", "cpu").rtol for d in ("float32", "float64")}  # the one table


def _params(dtype: str, seed: int | None = None) -> dict[str, np.ndarray]:
    return params.cast(e24.EXAMPLE.init(seed), dtype)


def _jax(p):
    return {k: jnp.asarray(v) for k, v in p.items()}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e24.EXAMPLE, dtype, device)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_parity_at_drawn_values(seed):
    c = harness.compare(e24.EXAMPLE, e24.EXAMPLE.init(seed), dtype="float32")
    assert c.passed, [r.message for r in c.regimes]


def test_the_print_hook_fires_once_with_the_gradient(capsys):
    """The seed's fn prints dL/dc = -w4 = -1 once per backward pass: torch's print(grad), JAX's
    jax.debug.print inside the custom_vjp backward (eager and jitted alike)."""
    p = _params("float32")
    ref.backward(p, (ref.make_fn(),))
    assert capsys.readouterr().out == "tensor([-1.])\n"

    e24.grads(_jax(p), (e24.make_fn(),))
    jax.effects_barrier()
    assert capsys.readouterr().out == "[-1.]\n"

    jitted = jax.jit(lambda q: e24.grads(q, (e24.make_fn(),)))
    for _ in range(2):  # once per execution, not once per trace
        jitted(_jax(p))
        jax.effects_barrier()
        assert capsys.readouterr().out == "[-1.]\n"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", [None, 4, 5])
def test_grad_plus_two_changes_the_upstream_gradients_as_in_torch(dtype, seed):
    """The hook adds 2 to dL/dc before it reaches MulBackward0 of c = w2·a: w2.grad grows by 2a and a.grad
    by 2·w2; the leaves downstream of c (w1, w3, w4) keep their gradients. Both frameworks, the same numbers."""
    p = _params(dtype, seed)
    plain, _ = e24.grads(_jax(p))
    hooked, _ = e24.grads(_jax(p), (lambda g: g + 2,))
    _, _, t = ref.backward(p, (lambda g: g + 2,), dtype=getattr(torch, dtype))
    for k in LEAVES:
        np.testing.assert_allclose(np.asarray(hooked[k]), t[k].grad.numpy(), rtol=RTOL[dtype], atol=0, err_msg=k)
    expected = {"a": 2 * p["w2"], "w2": 2 * p["a"]}  # upstream of c; w1, w3, w4 are downstream
    for k in LEAVES:
        h, g = np.asarray(hooked[k]), np.asarray(plain[k])
        if k not in expected:
            np.testing.assert_array_equal(h, g, err_msg=k)  # downstream of c: untouched
        else:  # a difference of two gradients: judged against their size
            scale = np.maximum(np.abs(h), np.abs(g))
            assert np.all(np.abs((h - g) - expected[k]) <= 4 * RTOL[dtype] * scale), k


@pytest.mark.parametrize("retain_first", [True, False])
def test_retain_grad_keeps_the_post_hook_gradient(retain_first):
    """torch: c.grad is the gradient after the hooks, whether retain_grad() came before or after
    register_hook. JAX: a zero perturbation added before the hook sees that; added after the hook it
    sees what the hook received (what the print hook printed). jax.vjp from c agrees."""
    p = _params("float64", seed=6)
    seen = []
    _, c, _ = ref.backward(p, (ref.make_fn(show=seen.append),), dtype=torch.float64, retain_first=retain_first)
    pre = seen[0].numpy()
    np.testing.assert_allclose(c.grad.numpy(), pre + 2, rtol=1e-15)

    jp = _jax(p)
    fn = (lambda g: g + 2,)
    _, post = e24.grads(jp, fn)
    np.testing.assert_allclose(np.asarray(post), c.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(e24.grad_at_c(jp, fn)), c.grad.numpy(), rtol=1e-13)

    def eps_after_hook(q, eps):
        b, cc = q["w1"] * q["a"], e24.with_hooks(q["w2"] * q["a"], fn) + eps
        return (10 - (q["w3"] * b + q["w4"] * cc))[0]

    before = jax.grad(eps_after_hook, argnums=1)(jp, jnp.zeros(1))
    np.testing.assert_allclose(np.asarray(before), pre, rtol=1e-13)


def test_hooks_run_in_the_order_added_and_none_keeps_the_gradient():
    """A print hook added before the + 2 hook sees the raw gradient, one added after it sees grad + 2; a
    hook returning None passes the gradient on unchanged (the seed's comment). Both frameworks."""
    p = _params("float64", seed=7)
    jp = _jax(p)
    for order in ("print_first", "add_first"):
        seen_t, seen_j = [], []
        show_t = lambda g: seen_t.append(g.numpy().copy())  # noqa: E731
        show_j = lambda g: jax.debug.callback(seen_j.append, g)  # noqa: E731
        add = lambda g: g + 2  # noqa: E731
        hooks_t = (show_t, add) if order == "print_first" else (add, show_t)
        hooks_j = (show_j, add) if order == "print_first" else (add, show_j)
        _, _, t = ref.backward(p, hooks_t, dtype=torch.float64)
        g, _ = e24.grads(jp, hooks_j)
        jax.effects_barrier()
        np.testing.assert_allclose(seen_j[0], seen_t[0], rtol=1e-13)
        raw = -p["w4"]  # dL/dc
        np.testing.assert_allclose(seen_t[0], raw if order == "print_first" else raw + 2, rtol=1e-13)
        for k in LEAVES:
            np.testing.assert_allclose(np.asarray(g[k]), t[k].grad.numpy(), rtol=1e-13, err_msg=k)

    nothing, _ = e24.grads(jp, (lambda g: None,))
    plain, _ = e24.grads(jp)
    _, _, t = ref.backward(p, (lambda g: None,), dtype=torch.float64)
    for k in LEAVES:
        np.testing.assert_array_equal(np.asarray(nothing[k]), np.asarray(plain[k]), err_msg=k)
        np.testing.assert_allclose(np.asarray(nothing[k]), t[k].grad.numpy(), rtol=1e-13, err_msg=k)


def test_printed_lines():
    p = _params("float32")
    lines = e24.value_lines(ref.values(p, {}, e24.CONFIG))
    assert lines[0] == "tensor([-1.])"  # what the seed's print(grad) prints for E11's graph
    assert lines[1] == "c.grad (retain_grad, after the hook): tensor([1.])  (without the hook: tensor([-1.]))"
    assert lines[2].startswith("with the hook:    a.grad=tensor([0.]), w1.grad=tensor([-1.]), w2.grad=tensor([1.])")
    assert e24.value_lines(jax.tree.map(np.asarray, e24.values(_jax(p), {}, e24.CONFIG))) == lines
