"""E11: L = 10 - d through torch's recorded graph and through jax.grad; grad_fn chain against jaxpr; the errors."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxport import harness, params
from jaxport.examples.e11_computation_graph import port as e11
from jaxport.examples.e11_computation_graph import reference as ref

from _helpers import assert_parity


def _params(dtype: str, seed: int | None = None) -> dict[str, np.ndarray]:
    return params.cast(e11.EXAMPLE.init(seed), dtype)


def _jax(p):
    return {k: jnp.asarray(v) for k, v in p.items()}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e11.EXAMPLE, dtype, device)


@pytest.mark.parametrize("seed", [1, 10, 27])
def test_parity_at_drawn_values(seed):
    """Away from the seed's ones (where every product is exact), including draws where d cancels (10, 27)."""
    c = harness.compare(e11.EXAMPLE, e11.EXAMPLE.init(seed), dtype="float32")
    assert c.passed, [r.message for r in c.regimes]


def test_the_seeds_numbers_in_both_frameworks():
    """All ones: b = 1, d = 2, L = 8, w4.grad = -1 (the seed's printed outputs), from JAX and from torch."""
    cfg = e11.CONFIG
    p = _params(cfg.dtype)
    ours = e11.values(_jax(p), {}, cfg)
    theirs = ref.values(p, {}, cfg)
    for vals in (ours, theirs):
        assert e11.value_lines(jax.tree.map(np.asarray, vals))[:3] == ["(tensor([1.]), tensor([2.]))", "tensor([8.])", "tensor([-1.])"]
        np.testing.assert_array_equal(vals["a.grad"], [-2.0])  # a reaches L twice: -(w3 w1 + w4 w2)


def test_the_seed_printed_torch_grad_fn_names():
    t = ref.build(_params("float32"))
    assert repr((t["b"], t["d"])) == "(tensor([1.], grad_fn=<MulBackward0>), tensor([2.], grad_fn=<AddBackward0>))"
    assert repr(t["L"]) == "tensor([8.], grad_fn=<RsubBackward1>)"


def test_grad_fn_chain_and_jaxpr_are_the_same_graph():
    """One jaxpr equation per grad_fn node: 4 mul (MulBackward0), 1 add (AddBackward0), 1 sub (RsubBackward1)
    whose constant is the seed's 10; one jaxpr input per leaf (AccumulateGrad)."""
    p = _params("float32")
    t = ref.build(p)
    torch_counts = ref.graph_counts(t["L"])
    jax_counts = e11.graph_counts(_jax(p))
    assert torch_counts == jax_counts == {"leaves": 5, "mul": 4, "add": 1, "sub": 1}

    closed = e11.graph(_jax(p))
    assert [eqn.primitive.name for eqn in closed.jaxpr.eqns][-2:] == ["add", "sub"]
    assert type(t["L"].grad_fn).__name__ == "RsubBackward1"
    sub = closed.jaxpr.eqns[-1]
    assert float(sub.invars[0].val) == 10.0  # L = 10 - d: the literal comes first, as in torch's Rsub
    text = "\n".join(e11.graph_lines())
    assert "mul" in text and "add" in text and "sub 10.0" in text and "a=a, b=w1, c=w2, d=w3, e=w4" in text
    chain = "\n".join(ref.grad_fn_lines())
    assert chain.count("MulBackward0") == 1 + 4  # b's in the repr line, four in the chain
    assert chain.count("AccumulateGrad (a)") == 2  # a feeds both b and c: one node reached twice


def test_backward_frees_the_graph_grad_can_run_again():
    """torch frees the saved tensors on backward(): a second L.backward() raises. The JAX graph is the
    function: grad runs again and gives the same values."""
    t = ref.build(_params("float32"))
    t["L"].backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        t["L"].backward()

    g = jax.grad(e11.loss)
    p = _jax(_params("float32"))
    first, second = g(p), g(p)
    for k in e11.LEAVES:
        np.testing.assert_array_equal(first[k], second[k])
        np.testing.assert_array_equal(first[k], t[k].grad.numpy())


def test_backward_on_a_non_scalar_raises_in_both():
    """The deliberate error: backward() with no gradient argument on a non-scalar raises at backward();
    jax.grad of a non-scalar function raises at the grad call. Both take an explicit output gradient
    (backward(gradient) / jax.vjp) and then agree."""
    p = _params("float32")
    t = ref.build(p)
    bc = torch.cat([t["b"], t["c"]])  # shape [2]
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        bc.backward()

    def bc_jax(q):
        out = e11.forward(q)
        return jnp.concatenate([out["b"], out["c"]])

    with pytest.raises(TypeError, match="Gradient only defined for scalar-output functions"):
        jax.grad(bc_jax)(_jax(p))

    cot = np.array([1.0, 3.0], dtype=np.float32)
    bc.backward(gradient=torch.tensor(cot))
    _, vjp = jax.vjp(bc_jax, _jax(p))
    (grads,) = vjp(jnp.asarray(cot))
    for k in e11.LEAVES:
        want = np.zeros(1, np.float32) if t[k].grad is None else t[k].grad.numpy()  # w3, w4: not in b or c
        np.testing.assert_array_equal(np.asarray(grads[k]), want, err_msg=k)


def test_one_element_L_torch_backward_accepts_jax_grad_needs_a_scalar():
    """The seed's L has shape [1]: torch's backward() treats it as a scalar, jax.grad does not; L[0] is the port."""
    p = _params("float32")
    with pytest.raises(TypeError, match=r"Output had shape: \(1,\)"):
        jax.grad(lambda q: e11.forward(q)["L"])(_jax(p))
    t = ref.build(p)
    t["L"].backward()  # no error
    np.testing.assert_array_equal(np.asarray(jax.grad(e11.loss)(_jax(p))["w4"]), t["w4"].grad.numpy())


def test_each_frameworks_view_of_the_graph():
    jax_lines = e11.graph_lines(e11.CONFIG)
    assert jax_lines[0].startswith("JAX's graph") and "sub 10.0:f32[]" in "\n".join(jax_lines)
    assert "f64[1]" in "\n".join(e11.graph_lines(dataclasses.replace(e11.CONFIG, dtype="float64")))
    torch_lines = ref.grad_fn_lines(params.cast(e11.EXAMPLE.init(3), "float32"))
    assert torch_lines[1].endswith("grad_fn=<RsubBackward1>)") and "8." not in torch_lines[1]  # the drawn values


def test_jit_fuses_a_multiply_add_eager_matches_torch_bit_for_bit():
    """values() runs op by op like torch: bitwise equal at a point where d cancels (seed 27 draws
    d = -0.00524 from terms of ~0.5). Jitted, XLA may fuse w3*b + w4*c into one multiply-add (one
    rounding): d then differs from torch's by up to one ulp of the terms (measured 2.9e-8, 5.6e-6 of |d|)."""
    p = _params("float32", seed=27)
    theirs = ref.values(p, {}, e11.CONFIG)
    eager = e11.values(_jax(p), {}, e11.CONFIG)
    for k, v in theirs.items():
        np.testing.assert_array_equal(np.asarray(eager[k]), v, err_msg=k)
    jitted = np.asarray(jax.jit(lambda q: e11.forward(q)["d"])(_jax(p)))
    b, c = p["w1"] * p["a"], p["w2"] * p["a"]
    terms = np.maximum(np.abs(p["w3"] * b), np.abs(p["w4"] * c))
    assert np.abs(jitted - theirs["d"]) <= np.spacing(terms)
    assert np.abs(theirs["d"]) < 0.02 * terms  # the cancellation that makes one ulp of the terms look large
