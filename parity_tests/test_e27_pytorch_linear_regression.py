"""E27: the seed's PyTorchLinearRegression — requires_grad, grad_fn and .grad against argnums, jaxpr and returned values."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from jaxport import params
from jaxport.examples.e27_pytorch_linear_regression import port as e27
from jaxport.examples.e27_pytorch_linear_regression import reference as ref

from _helpers import assert_parity

KEYS = tuple(e27.SHAPES)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e27.EXAMPLE, dtype, device)


def _inputs(dtype: str = "float32", seed: int | None = None):
    p = params.cast(e27.EXAMPLE.init(seed), dtype)
    data = e27.make_data(e27.Config(dtype=dtype))
    return p, data, {k: jnp.asarray(v) for k, v in p.items()}, {k: jnp.asarray(v) for k, v in data.items()}


def test_grad_is_a_returned_value_and_equals_torchs_dot_grad():
    """prediction.backward() fills weight.grad with X and bias.grad with 1 (d prediction / d params);
    jax.grad returns the same dict and leaves the parameters as they were."""
    p, data, jp, jd = _inputs("float64", seed=2)
    model = ref.make_model(p, torch.float64)
    assert all(q.grad is None for q in model.parameters())
    model(torch.tensor(data["X"])).backward()
    _, grads = e27.prediction_and_grad(jp, jd["X"])
    assert set(grads) == set(KEYS)  # torch's names (a dict pytree comes back with sorted keys)
    np.testing.assert_array_equal(np.asarray(grads["linear_layer.weight"]), data["X"])
    np.testing.assert_array_equal(np.asarray(grads["linear_layer.bias"]), [1.0])
    for k, q in model.named_parameters():
        np.testing.assert_array_equal(np.asarray(grads[k]), q.grad.numpy(), err_msg=k)
        np.testing.assert_array_equal(np.asarray(jp[k]), p[k], err_msg=k)  # nothing written back


def test_requires_grad_is_argnums():
    """The seed's requires_grad prints: X False, weight and bias True, prediction True. In JAX the
    choice is which argument jax.grad differentiates: argnums=1 gives the input's gradient, which torch
    never computed (X.grad stays None)."""
    p, data, jp, jd = _inputs()
    model = ref.make_model(p)
    X = torch.tensor(data["X"])
    prediction = model(X)
    assert (X.requires_grad, model.linear_layer.weight.requires_grad, model.linear_layer.bias.requires_grad,
            prediction.requires_grad) == (False, True, True, True)
    prediction.backward()
    assert X.grad is None
    gx = e27.input_gradient(jp, jd["X"])
    np.testing.assert_array_equal(np.asarray(gx), p["linear_layer.weight"])  # d (x W^T + b) / dx = W
    # torch gives it only when asked for up front, as JAX's argnums
    X2 = torch.tensor(data["X"], requires_grad=True)
    model(X2).backward()
    np.testing.assert_array_equal(X2.grad.numpy(), np.asarray(gx))


def test_grad_fn_is_the_traced_program():
    """t * X.T + 1 carries grad_fn AddBackward0 (leaves and plain data carry None); JAX records no
    per-array history, but make_jaxpr shows the traced operations, ending in the add."""
    p, data, jp, jd = _inputs()
    model = ref.make_model(p)
    X = torch.tensor(data["X"])
    t = torch.tensor(3.0)
    t.requires_grad = True
    prediction = t * X.T + 1
    assert type(prediction.grad_fn).__name__ == "AddBackward0"
    assert X.grad_fn is None and model.linear_layer.weight.grad_fn is None and model.linear_layer.bias.grad_fn is None
    jaxpr = e27.grad_fn_jaxpr(jd["t"], jd["X"])
    prims = [eq.primitive.name for eq in jaxpr.eqns]
    assert prims[-1] == "add" and "mul" in prims, prims
    assert not hasattr(jax.jit(lambda t: t * jd["X"].T + 1)(jd["t"]), "grad_fn")


def test_backward_needs_one_element_and_grad_needs_a_scalar():
    """torch's implicit backward() works on the (1, 1) prediction and refuses a batch; jax.grad refuses
    any non-scalar output, so the port sums (torch's implicit gradient of ones)."""
    p, data, jp, jd = _inputs()
    model = ref.make_model(p)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        model(torch.ones(2, 3)).backward()
    with pytest.raises(TypeError, match="Gradient only defined for scalar-output functions"):
        jax.grad(e27.forward)(jp, jd["X"])


def test_the_seeds_step_cell_error_in_both():
    """The seed's step cell fed a (4, 4) dataloader batch to PyTorchLinearRegression(3, 1)."""
    p, data, jp, jd = _inputs()
    batch = np.ones((4, 4), np.float32)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x4 and 3x1\)"):
        ref.make_model(p)(torch.tensor(batch))
    with pytest.raises(TypeError, match="dot_general requires contracting dimensions to have the same shape"):
        e27.forward(jp, jnp.asarray(batch))


def test_step_with_lr_1_subtracts_the_gradient():
    p, data, jp, jd = _inputs("float64")
    v = jax.tree.map(np.asarray, e27.values(jp, jd, e27.Config(dtype="float64")))
    np.testing.assert_array_equal(v["step.linear_layer.weight"], p["linear_layer.weight"] - data["X"])
    np.testing.assert_array_equal(v["step.linear_layer.bias"], p["linear_layer.bias"] - 1.0)
    assert float(v["loss"]) == pytest.approx(float(F.mse_loss(torch.tensor(v["prediction"]), torch.tensor(data["y"]))), rel=1e-15)


def test_printed_like_the_seed():
    p, data, jp, jd = _inputs()
    ours = jax.tree.map(np.asarray, e27.values(jp, jd, e27.CONFIG))
    lines = e27.value_lines(ours)
    assert lines[:4] == ["Weight: Parameter containing:", "tensor([[ 0.0430, -0.2506, -0.3324]], requires_grad=True)",
                         "Bias: Parameter containing:", "tensor([-0.0165], requires_grad=True)"]
    assert lines == e27.value_lines(ref.values(p, data, e27.CONFIG))
