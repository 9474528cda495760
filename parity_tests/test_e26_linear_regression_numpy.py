"""E26: the seed's NumPy LinearRegression with hand gradients, against the same in JAX and jax.grad."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxport import harness, params
from jaxport.examples.e26_linear_regression_numpy import port as e26
from jaxport.examples.e26_linear_regression_numpy import reference as ref

from _helpers import assert_parity


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    if device != "cpu":
        pytest.skip("E26's reference is NumPy: CPU only")
    assert_parity(e26.EXAMPLE, dtype, device)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_parity_other_draws(seed, device):
    if device != "cpu":
        pytest.skip("E26's reference is NumPy: CPU only")
    c = harness.compare(e26.EXAMPLE, e26.EXAMPLE.init(seed), dtype="float64", device=device)
    assert c.passed, [r.message for r in c.regimes]


def _inputs(seed: int = 0, dtype: str = "float64"):
    p = {k: jnp.asarray(v) for k, v in params.cast(e26.EXAMPLE.init(seed), dtype).items()}
    data = {k: jnp.asarray(v) for k, v in e26.make_data(e26.Config(dtype=dtype)).items()}
    return p, data


@pytest.mark.parametrize("seed", [0, 7])
def test_hand_gradients_are_jax_grad(seed):
    """The seed's grad_w = X and grad_b = 1 are each example's d prediction / d params, which
    vmap(grad) derives; the chain rule over them is jax.grad of the MSE loss."""
    p, data = _inputs(seed)
    grad_w, grad_b = e26.get_gradients(p, data["X"])
    auto_w, auto_b = e26.autodiff_gradients(p, data["X"])
    np.testing.assert_array_equal(np.asarray(auto_w), np.asarray(grad_w))
    np.testing.assert_array_equal(np.asarray(auto_b), np.broadcast_to(np.asarray(grad_b), auto_b.shape))
    _, auto = e26.loss_and_grad(p, data)
    hand = e26.loss_gradients(p, data)
    for k in e26.SHAPES:
        assert hand[k].shape == auto[k].shape == p[k].shape
        np.testing.assert_allclose(np.asarray(hand[k]), np.asarray(auto[k]), rtol=1e-14, err_msg=k)


def test_hand_gradients_go_stale_when_the_model_changes():
    """The seed's warning: change predict and get_gradients is wrong until rewritten by hand;
    jax.grad follows the new model. Here predict gains a tanh."""
    p, data = _inputs()
    changed = lambda q, x: jnp.tanh(e26.predict(q, x))  # noqa: E731
    one = lambda q, x: changed(q, x[None])[0, 0]  # noqa: E731
    auto = jax.vmap(jax.grad(one), in_axes=(None, 0))(p, data["X"])["weights"][:, 0, :]
    stale, _ = e26.get_gradients(p, data["X"])
    assert not np.allclose(np.asarray(auto), np.asarray(stale))
    scale = 1 - np.tanh(np.asarray(e26.predict(p, data["X"]))) ** 2  # the factor a hand rewrite would add
    np.testing.assert_allclose(np.asarray(auto), scale * np.asarray(stale), rtol=1e-14)


def test_the_seeds_predict_raises_in_both():
    """As written, X @ weights multiplies (N, 3) by (1, 3): NumPy and jnp both refuse, at the matmul."""
    p, data = _inputs()
    model = ref.LinearRegression(3, 1, weights=np.asarray(p["weights"]), bias=np.asarray(p["bias"]))
    with pytest.raises(ValueError, match="matmul"):
        np.asarray(data["X"]) @ model.weights + model.bias
    with pytest.raises(TypeError, match="dot_general requires contracting dimensions to have the same shape"):
        e26.predict_as_written(p, data["X"])
    # it only runs when num_inputs == num_outputs, and then it is x W, not W x: the transpose's job
    square = {"weights": jnp.arange(9.0).reshape(3, 3), "bias": jnp.zeros(3)}
    assert not np.allclose(np.asarray(e26.predict_as_written(square, data["X"])), np.asarray(e26.predict(square, data["X"])))


def test_seed_default_init_is_randn_order():
    """np.random.randn(out, in) then randn(out): --seed S draws standard normals in that order."""
    rng = np.random.default_rng(5)
    w, b = rng.standard_normal((1, 3)), rng.standard_normal(1)
    p = e26.EXAMPLE.init(5)
    np.testing.assert_array_equal(p["weights"], w)
    np.testing.assert_array_equal(p["bias"], b)


def test_printed_lines_are_the_same_from_both():
    p, data = _inputs()
    ours = jax.tree.map(np.asarray, e26.values(p, data, e26.CONFIG))
    theirs = ref.values(params.cast(e26.EXAMPLE.init(), "float64"), e26.make_data(e26.CONFIG), e26.CONFIG)
    assert e26.value_lines(ours) == e26.value_lines(theirs)
    assert e26.value_lines(ours)[1].endswith("grad_b = 1")
