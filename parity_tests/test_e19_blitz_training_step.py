"""E19: the blitz's ResNet-18 training step (forward, backward, SGD momentum) as one pure function, against torch."""

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from flax import nnx

from jaxport import convert
from jaxport.examples import _resnet, _resnet_torch
from jaxport.examples.e19_blitz_training_step import port as e19

from _helpers import assert_parity


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e19.EXAMPLE, dtype, device)


def test_keys_and_shapes_are_torchvisions():
    """The written-out torch resnet18 and the flax one have the same state_dict keys, order and shapes."""
    sd = _resnet_torch.resnet18().state_dict()
    assert [k for k, _ in _resnet_torch.resnet18().named_parameters()] == list(e19.SHAPES)
    assert {k: tuple(v.shape) for k, v in sd.items()} == {**e19.SHAPES, **_resnet.buffer_shapes()}
    _, state = _resnet._template(jnp.dtype("float32"), 1000)
    assert set(jax.eval_shape(convert.torch_tree, state)) == set(sd)


@pytest.mark.skipif(importlib.util.find_spec("torchvision") is None, reason="torchvision is not installed")
def test_keys_match_torchvision():
    import torchvision

    tv = torchvision.models.resnet18().state_dict()
    assert {k: tuple(v.shape) for k, v in tv.items()} == {k: tuple(v.shape) for k, v in _resnet_torch.resnet18().state_dict().items()}


def test_running_var_is_unbiased_unlike_nnx_batchnorm():
    """torch puts the unbiased batch variance into running_var; _resnet.BatchNorm2d does too, nnx.BatchNorm does not."""
    x = np.random.default_rng(0).standard_normal((2, 3, 3, 4))  # NHWC, 18 values per channel
    n = 18
    bn = _resnet.BatchNorm2d(4, dtype=jnp.float64)
    y = bn(jnp.asarray(x), train=True)
    t = torch.nn.BatchNorm2d(4).double()
    ty = t(torch.tensor(x.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(np.asarray(bn.var[...]), t.running_var.numpy(), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(bn.mean[...]), t.running_mean.numpy(), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(y), ty.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-12, atol=1e-14)
    assert int(bn.num_batches_tracked[...]) == int(t.num_batches_tracked) == 1
    flax_bn = convert.batch_norm2d(4, rngs=nnx.Rngs(0), dtype=jnp.float64)  # nnx.BatchNorm with torch's momentum
    with jax.numpy_dtype_promotion("standard"):  # flax's stats promote with float32 internally
        flax_bn(jnp.asarray(x))
    biased = 0.9 + 0.1 * x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(np.asarray(flax_bn.var[...]), biased, rtol=1e-14)  # flax: biased variance
    np.testing.assert_allclose(t.running_var.numpy(), 0.9 + 0.1 * x.var(axis=(0, 1, 2)) * n / (n - 1), rtol=1e-14)


def test_one_value_per_channel_raises_like_torch():
    """batch 1 at 32x32 leaves layer4 at 1x1: torch refuses batch statistics of one value, so does the port.
    The seed's 64x64 leaves it 2x2 (4 values per channel)."""
    p = {k: np.asarray(v, np.float32) for k, v in e19.EXAMPLE.init().items()}
    b = _resnet.initial_buffers("float32")
    x = np.zeros((1, 3, 32, 32), np.float32)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        _resnet_torch.load(_resnet_torch.resnet18(), p, b, device=torch.device("cpu"), dtype=torch.float32)(torch.tensor(x))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        jax.eval_shape(lambda p, b, x: _resnet.forward(p, b, x, train=True), p, b, x)
    out, _ = jax.eval_shape(lambda p, b, x: _resnet.forward(p, b, x, train=False), p, b, x)  # eval mode: fine
    assert out.shape == (1, 1000)
