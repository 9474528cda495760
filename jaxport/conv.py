"""Convolution and max-pooling as image patches times a matrix: the layer E19–E22 share on CPU.

Why it exists. XLA's CPU convolution, and above all its gradient, is slow at the blitz's sizes: the
seed's ``Net`` (E21, batch 4) takes ~3.5 ms a step with ``lax.conv_general_dilated`` where torch's
oneDNN kernels take ~2.2 ms (this project's 2-core machine, one thread each). The same convolution
written as image patches (im2col: every kh×kw window's values side by side) times the kernel as a
matrix is one ``dot``, which XLA's CPU backend hands to a fast matrix library: E21's step falls to
~1.1 ms, E19's ResNet-18 step from ~420 to ~75 ms. It is the same arithmetic: each output is the dot
product of a window with the kernel; only the order of the sum differs from XLA's convolution (both
within float32's rounding of the float64 result, which the parity harness checks).

How it is used. :func:`conv_general_dilated` has ``lax.conv_general_dilated``'s signature, so a
flax ``nnx.Conv`` takes it as its ``conv_general_dilated=`` argument and the models still read as
flax (:func:`jaxport.convert.conv2d` does this); anything it does not cover (other layouts,
dilation, groups) goes to ``lax.conv_general_dilated`` unchanged. :func:`max_pool` is
``nnx.max_pool`` for NHWC input with torch's gradient rule.

The gradients are written out (``jax.custom_vjp``): the kernel's is patchesᵀ × output gradient
(one ``dot``, its operands laid out so XLA's matrix library takes it); the input's is the transposed
convolution: where the positions outnumber the kernel's entries, the output gradient dilated by the
stride, padded by kernel − 1 and correlated with the flipped kernel (patches × matrix again, a
gather); where the kernel is the larger (ResNet's layer4), output gradient × kernel matrix with
each window entry's share put back in place (a scatter that copies no kernel).

Max-pooling's gradient follows torch, not ``jnp.max``: torch sends a window's gradient to the
*first* maximum in the window (row by row), while the gradient of a max-reduction splits it evenly
among ties. Ties are common after a ReLU over a flat image region (equal values), so the rule matters
for the input's gradient; both rules give the same kernel gradients only when the tied windows see
equal patches.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

Pads = tuple[tuple[int, int], tuple[int, int]]

NHWC = ("NHWC", "HWIO", "NHWC")  # flax's layout; the only one the patches path takes


def _pairs(padding: str | Sequence[tuple[int, int]], in_hw: Sequence[int], k_hw: Sequence[int],
           strides: Sequence[int]) -> Pads | None:
    """Explicit (lo, hi) pads for both spatial axes, or ``None`` for what the patches path does not take."""
    if isinstance(padding, str):
        padding = lax.padtype_to_pads(tuple(in_hw), tuple(k_hw), tuple(strides), padding)
    pads = tuple((int(lo), int(hi)) for lo, hi in padding)
    if len(pads) != 2 or any(p < 0 for pair in pads for p in pair):
        return None
    return pads  # type: ignore[return-value]


def _by_channel(n: int, ho: int, wo: int, o: int) -> bool:
    """Which order the patches take. Window entry by entry (i, j, c), each entry's C channels one
    contiguous piece: fast to gather, and an HWIO kernel is its matrix as it lies. But a kernel made
    from torch's OIHW weight (``convert.nnx_tree`` transposes it) must then be moved, which costs
    more than the patches when the kernel is the larger (ResNet-18's layer4: 512×512×3×3 against
    2×2 positions, ~10 ms a copy here); there the patches go channel by channel (c, i, j), torch's
    own row order, the kernel's two transposes cancel and XLA moves nothing. The larger: O > N·Ho·Wo."""
    return o > n * ho * wo


def _patches(x: jax.Array, kh: int, kw: int, strides: tuple[int, int], by_channel: bool) -> jax.Array:
    """(N, H, W, C) → (N, Ho, Wo, kh·kw·C): every window's values, ordered (i, j, c), or (c, i, j)
    ``by_channel``."""
    n, h, w, c = x.shape
    sh, sw = strides
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    entries = [x[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw, :] for i in range(kh) for j in range(kw)]
    if by_channel:
        return jnp.stack(entries, axis=-1).reshape(n, ho, wo, c * kh * kw)
    return jnp.concatenate(entries, axis=-1)


def _times(cols: jax.Array, kernel: jax.Array, by_channel: bool) -> jax.Array:
    """Patches (…, kh·kw·C) × an HWIO kernel → (…, O)."""
    kh, kw, c, o = kernel.shape
    if by_channel:  # the kernel as torch's (O, C·kh·kw): a transpose XLA cancels against convert's
        matrix = jnp.transpose(kernel, (3, 2, 0, 1)).reshape(o, c * kh * kw)
        return lax.dot_general(cols, matrix, (((cols.ndim - 1,), (1,)), ((), ())))
    return cols @ kernel.reshape(kh * kw * c, o)


def _conv(x: jax.Array, kernel: jax.Array, strides: tuple[int, int]) -> tuple[jax.Array, jax.Array, bool]:
    """A 'VALID' NHWC/HWIO convolution as patches × the kernel: (output, patches, their order)."""
    kh, kw, _, o = kernel.shape
    n, h, w, _ = x.shape
    by_channel = _by_channel(n, (h - kh) // strides[0] + 1, (w - kw) // strides[1] + 1, o)
    cols = _patches(x, kh, kw, strides, by_channel)
    return _times(cols, kernel, by_channel), cols, by_channel


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _patch_conv(x: jax.Array, kernel: jax.Array, strides: tuple[int, int], pads: Pads) -> jax.Array:
    return _conv(jnp.pad(x, ((0, 0), *pads, (0, 0))), kernel, strides)[0]


def _patch_conv_fwd(x, kernel, strides, pads):
    y, cols, _ = _conv(jnp.pad(x, ((0, 0), *pads, (0, 0))), kernel, strides)
    return y, (cols, kernel, x.shape)


def _patch_conv_bwd(strides, pads, res, g):
    cols, kernel, x_shape = res
    kh, kw, c, o = kernel.shape
    n, ho, wo, _ = g.shape
    by_channel = _by_channel(n, ho, wo, o)
    g2, cols2 = g.reshape(-1, o), cols.reshape(-1, c * kh * kw)
    if by_channel:  # (O, C·kh·kw), torch's layout, back to HWIO (cancels against convert's transpose)
        dkernel = jnp.transpose(lax.dot_general(g2, cols2, (((0,), (0,)), ((), ()))).reshape(o, c, kh, kw), (2, 3, 1, 0))
    else:
        # gᵀ (O, M) × patches (M, kh·kw·C), then transposed: as written, XLA would fold both transposes
        # into one dot contracting the patches' leading axis, which its CPU runtime does ~2× slower
        dkernel = lax.optimization_barrier(lax.optimization_barrier(g2.T) @ cols2).T.reshape(kernel.shape)
    (plo_h, phi_h), (plo_w, phi_w) = pads
    hp, wp = x_shape[1] + plo_h + phi_h, x_shape[2] + plo_w + phi_w  # the padded input's size
    if o * kh * kw < n * hp * wp:
        # many positions, a small kernel: the transposed convolution as a convolution (a gather) of
        # g dilated by the stride and padded by kernel - 1, with the kernel turned round
        sh, sw = strides
        extra_h, extra_w = hp - ((ho - 1) * sh + kh), wp - ((wo - 1) * sw + kw)  # rows no window reached
        zero = jnp.zeros((), g.dtype)
        gd = lax.pad(g, zero, ((0, 0, 0), (kh - 1, kh - 1 + extra_h, sh - 1), (kw - 1, kw - 1 + extra_w, sw - 1),
                               (0, 0, 0)))
        dxp = _conv(gd, jnp.transpose(kernel[::-1, ::-1], (0, 1, 3, 2)), (1, 1))[0]
    else:
        # few positions, a large kernel (ResNet's layer4): the patches' gradient g × the kernel's
        # matrix (not copied), each window entry's share put back where it was read (a scatter)
        if by_channel:
            matrix = jnp.transpose(kernel, (3, 2, 0, 1)).reshape(o, c * kh * kw)
            dcols = lax.dot_general(g, matrix, (((3,), (0,)), ((), ()))).reshape(n, ho, wo, c, kh * kw)
            shares = [dcols[..., k] for k in range(kh * kw)]
        else:
            dcols = lax.dot_general(g, kernel.reshape(kh * kw * c, o), (((3,), (1,)), ((), ())))
            shares = [dcols.reshape(n, ho, wo, kh * kw, c)[..., k, :] for k in range(kh * kw)]
        dxp = sum(_place(share, k, kw, strides, hp, wp) for k, share in enumerate(shares))
    return dxp[:, plo_h:plo_h + x_shape[1], plo_w:plo_w + x_shape[2], :], dkernel


def _place(share: jax.Array, k: int, kw: int, strides: tuple[int, int], hp: int, wp: int) -> jax.Array:
    """Window entry ``k``'s values (N, Ho, Wo, C) put back where :func:`_patches` read them: zeros
    elsewhere in the (N, hp, wp, C) padded input (the transpose of that strided slice)."""
    i, j = divmod(k, kw)
    (sh, sw), (ho, wo) = strides, share.shape[1:3]
    zero = jnp.zeros((), share.dtype)
    return lax.pad(share, zero, ((0, 0, 0), (i, hp - i - (ho - 1) * sh - 1, sh - 1),
                                 (j, wp - j - (wo - 1) * sw - 1, sw - 1), (0, 0, 0)))


_patch_conv.defvjp(_patch_conv_fwd, _patch_conv_bwd)


def conv_general_dilated(lhs: jax.Array, rhs: jax.Array, window_strides: Sequence[int],
                         padding: str | Sequence[tuple[int, int]], lhs_dilation: Sequence[int] | None = None,
                         rhs_dilation: Sequence[int] | None = None, dimension_numbers: Any = None,
                         feature_group_count: int = 1, batch_group_count: int = 1, precision: Any = None,
                         preferred_element_type: Any = None, **kwargs: Any) -> jax.Array:
    """``lax.conv_general_dilated``, as patches × matrix for a 2-D NHWC/HWIO convolution (flax's);
    anything else (other layouts, dilation, groups, negative padding, a preferred element type) is
    ``lax``'s own. The patches path computes at the inputs' dtype (``precision`` and an
    ``out_sharding`` are not applied to its dot)."""
    def lax_conv() -> jax.Array:
        return lax.conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                                        dimension_numbers, feature_group_count, batch_group_count, precision,
                                        preferred_element_type, **kwargs)

    if lhs.ndim != 4 or feature_group_count != 1 or batch_group_count != 1 or preferred_element_type is not None:
        return lax_conv()
    if any(d != 1 for d in (lhs_dilation or ())) or any(d != 1 for d in (rhs_dilation or ())):
        return lax_conv()
    dn = lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    if dn != lax.conv_dimension_numbers(lhs.shape, rhs.shape, NHWC) or lhs.dtype != rhs.dtype:
        return lax_conv()
    strides = tuple(int(s) for s in window_strides)
    pads = _pairs(padding, lhs.shape[1:3], rhs.shape[:2], strides)
    if pads is None or len(strides) != 2:
        return lax_conv()
    return _patch_conv(lhs, rhs, strides, pads)


# --------------------------------------------------------------------------------------------
# max-pooling with torch's gradient
# --------------------------------------------------------------------------------------------


def _windows(x: jax.Array, window: tuple[int, int], strides: tuple[int, int]) -> jax.Array:
    """(N, H, W, C) (already padded) → (kh·kw, N, Ho, Wo, C): each window entry's values, row by row."""
    kh, kw = window
    sh, sw = strides
    ho, wo = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
    return jnp.stack([x[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw, :]
                      for i in range(kh) for j in range(kw)])


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3))
def _max_pool(x: jax.Array, window: tuple[int, int], strides: tuple[int, int], pads: Pads) -> jax.Array:
    return _max_pool_fwd(x, window, strides, pads)[0]


def _max_pool_fwd(x, window, strides, pads):
    xp = jnp.pad(x, ((0, 0), *pads, (0, 0)), constant_values=-jnp.inf)
    wins = _windows(xp, window, strides)
    first = jnp.argmax(wins, axis=0)  # torch's choice: the first maximum (a NaN counts as the maximum)
    return jnp.max(wins, axis=0), (first, x.shape)


def _max_pool_bwd(window, strides, pads, res, g):
    first, x_shape = res
    kh, kw = window
    (plo_h, phi_h), (plo_w, phi_w) = pads
    hp, wp = x_shape[1] + plo_h + phi_h, x_shape[2] + plo_w + phi_w
    zero = jnp.zeros((), g.dtype)
    dxp = sum(_place(jnp.where(first == k, g, zero), k, kw, strides, hp, wp) for k in range(kh * kw))
    return (dxp[:, plo_h:plo_h + x_shape[1], plo_w:plo_w + x_shape[2], :],)


_max_pool.defvjp(_max_pool_fwd, _max_pool_bwd)


def max_pool(x: jax.Array, window_shape: tuple[int, int], strides: tuple[int, int] | None = None,
             padding: Pads | str = "VALID") -> jax.Array:
    """``nnx.max_pool`` for NHWC input (padding with -inf, as torch), its gradient torch's: each
    window's to its first maximum. ``strides`` defaults to the window (torch's default; flax's is 1)."""
    window = tuple(int(k) for k in window_shape)
    strides = window if strides is None else tuple(int(s) for s in strides)
    pads = _pairs(padding, x.shape[1:3], window, strides)
    if x.ndim != 4 or len(window) != 2 or pads is None:
        raise ValueError(f"max_pool: expected NHWC input and a 2-D window with non-negative padding, got input "
                         f"{x.shape}, window {window_shape}, padding {padding}")
    return _max_pool(x, window, strides, pads)  # type: ignore[arg-type]
