"""jaxport.conv: the patches × matrix convolution and torch's max-pool gradient (issue 15, part 3).

The convolution is XLA's own (``lax.conv_general_dilated``) within rounding, value and both
gradients, for every shape the ports use and the edges (stride, padding, 1×1, a window that misses
the last rows, both patch orders, both input-gradient forms); the max-pool is torch's, value and
gradient, ties included. Float64, so "within rounding" is ~1e-13, not a loose bound.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxport import conv, convert

# (N, H, W, C, O, k, stride, pad): E21/E22's two convs, ResNet-18's (7×7 s2 p3, 3×3 p1, 3×3 s2, 1×1 s2,
# layer4 at 2×2 where the kernel outweighs the positions), a stride that leaves rows unread
SHAPES = [(4, 32, 32, 3, 6, 5, 1, 0), (4, 14, 14, 6, 16, 5, 1, 0), (1, 64, 64, 3, 8, 7, 2, 3),
          (1, 16, 16, 8, 8, 3, 1, 1), (2, 9, 11, 4, 5, 3, 2, 1), (2, 8, 8, 6, 4, 1, 2, 0),
          (1, 2, 2, 16, 64, 3, 1, 1), (1, 4, 4, 8, 32, 3, 2, 1), (1, 10, 10, 2, 3, 3, 3, 2)]


def _lax(x, w, s, p):
    return jax.lax.conv_general_dilated(x, w, (s, s), ((p, p), (p, p)), dimension_numbers=conv.NHWC)


def _ours(x, w, s, p):
    return conv.conv_general_dilated(x, w, (s, s), ((p, p), (p, p)), dimension_numbers=conv.NHWC)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_patch_conv_is_xlas_conv_within_rounding(shape):
    n, h, w, c, o, k, s, p = shape
    rng = np.random.default_rng(sum(shape))
    x, kern = rng.standard_normal((n, h, w, c)), rng.standard_normal((k, k, c, o))
    r = rng.standard_normal(_lax(x, kern, s, p).shape)
    for fn in (_lax, _ours):
        assert fn(x, kern, s, p).dtype == jnp.float64
    want = jax.value_and_grad(lambda x, kern: jnp.vdot(_lax(x, kern, s, p), r), (0, 1))(x, kern)
    got = jax.value_and_grad(lambda x, kern: jnp.vdot(_ours(x, kern, s, p), r), (0, 1))(x, kern)
    np.testing.assert_allclose(_ours(x, kern, s, p), _lax(x, kern, s, p), rtol=0, atol=1e-12)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-11 * max(1.0, float(np.abs(b).max())))


def test_patch_conv_takes_flax_and_leaves_the_rest_to_lax():
    """nnx.Conv built by convert.conv2d convolves with it; what it does not cover is lax's result exactly."""
    from flax import nnx

    layer = convert.conv2d(3, 4, 3, stride=2, padding=1, rngs=nnx.Rngs(0))
    assert layer.conv_general_dilated is conv.conv_general_dilated
    x = jnp.asarray(np.random.default_rng(1).standard_normal((2, 9, 9, 3)), jnp.float32)
    ref = jax.lax.conv_general_dilated(x, layer.kernel[...], (2, 2), ((1, 1), (1, 1)), dimension_numbers=conv.NHWC)
    np.testing.assert_allclose(layer(x), ref + layer.bias[...][None, None, None], rtol=1e-6, atol=1e-6)
    # dilation, groups and another layout are lax's own
    xn = jnp.transpose(x, (0, 3, 1, 2))
    kern = jnp.ones((4, 3, 3, 3), jnp.float32)
    for kwargs in ({"rhs_dilation": (2, 2)}, {"dimension_numbers": ("NCHW", "OIHW", "NCHW")}):
        lhs = xn if "dimension_numbers" in kwargs else x
        rhs = kern if "dimension_numbers" in kwargs else jnp.transpose(kern, (2, 3, 1, 0))
        kw = {"dimension_numbers": conv.NHWC, **kwargs}
        assert np.array_equal(conv.conv_general_dilated(lhs, rhs, (1, 1), "VALID", **kw),
                              jax.lax.conv_general_dilated(lhs, rhs, (1, 1), "VALID", **kw))


@pytest.mark.parametrize("h, k, s, p", [(28, 2, 2, 0), (10, 2, 2, 0), (16, 3, 2, 1), (15, 3, 2, 1)])
def test_max_pool_is_torchs_with_ties(h, k, s, p):
    """torch sends a window's gradient to its first maximum; a max-reduction's gradient would split it
    among ties. Rounded values make ties in most windows, so a wrong rule cannot pass."""
    rng = np.random.default_rng(h + k)
    x = np.round(rng.standard_normal((2, h, h, 3)))  # NHWC, many equal values
    ho = (h + 2 * p - k) // s + 1
    r = rng.standard_normal((2, ho, ho, 3))
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    yt = torch.nn.functional.max_pool2d(xt, k, s, p)
    (yt * torch.tensor(r.transpose(0, 3, 1, 2))).sum().backward()

    def pooled(x):
        return conv.max_pool(x, (k, k), (s, s), ((p, p), (p, p)))

    y, grad = jax.value_and_grad(lambda x: jnp.vdot(pooled(x), r))(x)
    assert np.array_equal(np.asarray(pooled(x)).transpose(0, 3, 1, 2), yt.detach().numpy())
    np.testing.assert_allclose(np.asarray(grad).transpose(0, 3, 1, 2), xt.grad.numpy(), rtol=0, atol=1e-15)
    # the rule matters here: jnp.max's gradient differs on these ties
    split = jax.grad(lambda x: jnp.vdot(x.reshape(2, h // 2, 2, h // 2, 2, 3).max(axis=(2, 4)), r))(x) if k == s == 2 else None
    if split is not None:
        assert not np.allclose(np.asarray(split), np.asarray(grad))


def test_max_pool_refuses_what_it_does_not_take():
    with pytest.raises(ValueError, match="NHWC input and a 2-D window"):
        conv.max_pool(jnp.zeros((2, 8, 8)), (2, 2))
