"""Weights between PyTorch and flax nnx, with torch's ``state_dict`` key names kept.

Ports no single seed: it is the bridge the later examples (nn, optim, module, CNN) use to start a
flax model from a torch model's exact weights and to hand trained weights back to
``model.load_state_dict(..., strict=True)``. The functional contrast: torch loads weights *into* a
module; here :func:`from_state_dict` returns a new ``nnx.State`` and the caller decides where it goes
(``nnx.update(model, state)`` or ``nnx.merge(graphdef, state)``).

Key mapping (nnx path → torch key), applied leaf by leaf:

* Path parts are joined with ``.``; attribute names are kept, so a module whose attributes carry
  torch's names (``fc1``, ``conv2``, ``net``) gives torch's keys (``fc1.weight``, ``net.0.bias``).
* A part named ``layers`` (``sequential_attr``) followed by an integer index is dropped:
  ``nnx.Sequential`` (and a user module holding its layers in ``self.layers = nnx.List([...])``)
  maps to ``nn.Sequential``, whose children are keyed ``0``, ``1``, ... Activations and other
  parameterless entries keep their index, as in torch (``Linear, ReLU, Linear`` → ``0.*``, ``2.*``).
  Pass ``sequential_attr=None`` when a torch module really has an attribute called ``layers``.
* Leaf names: ``kernel`` → ``weight``, transposed from flax's ``(*spatial, in, out)`` to torch's
  ``(out, in, *spatial)`` (Linear: ``(in, out)`` ↔ ``(out, in)``; Conv2d: HWIO ↔ OIHW, i.e.
  ``transpose(2, 3, 1, 0)`` torch → flax); ``scale`` → ``weight`` (BatchNorm, LayerNorm);
  ``embedding`` → ``weight``; ``mean``/``var`` (BatchStat) → ``running_mean``/``running_var``;
  ``bias`` and any other name (a bare ``nnx.Param`` ``a``) unchanged.
* ``num_batches_tracked`` (torch BatchNorm's step counter) has no flax counterpart: it is accepted
  and ignored on the way in, and written on the way out only when given in ``extras`` (see
  :func:`torch_only_buffers`). torch's ``load_state_dict(strict=True)`` accepts a plain dict without
  it (the module keeps its own counter).

Only ``nnx.Param`` and ``nnx.BatchStat`` leaves are mapped; RNG state and other variables are
passed through untouched. Not handled: ``ConvTranspose`` (torch keeps ``(in, out, ...)``),
``LinearGeneral``/``Einsum`` kernels, bfloat16 torch tensors. Values are copied, never aliased, and
keep their dtype bit for bit; this module takes arrays or tensors, never files (nothing is unpickled).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxport import conv
from jaxport.errors import UsageError

__all__ = [
    "StateDictError",
    "batch_norm2d",
    "conv2d",
    "flatten_state_dict",
    "from_state_dict",
    "linear",
    "to_state_dict",
    "torch_bias_init",
    "nnx_tree",
    "torch_key",
    "torch_tree",
    "torch_kernel_init",
    "torch_only_buffers",
    "unflatten_state_dict",
]

Path = tuple[str | int, ...]


class StateDictError(UsageError, ValueError):
    """A state_dict that does not fit the module: one line naming the key, what was found and expected."""


# --------------------------------------------------------------------------------------------
# torch's initial-value distributions for flax layers (distribution-equal, not stream-equal)
# --------------------------------------------------------------------------------------------


def torch_kernel_init() -> Callable[..., jax.Array]:
    """torch's ``kaiming_uniform_(a=√5)``: U(±1/√fan_in), fan_in = in × receptive field.

    ``gain = √(2/(1+5)) = √(1/3)``, bound ``= √3 · gain/√fan_in = 1/√fan_in``: exactly flax's
    ``variance_scaling(1/3, 'fan_in', 'uniform')``, whose fan_in for a ``(*spatial, in, out)``
    kernel is the same product torch uses for ``(out, in, *spatial)``.
    """
    return nnx.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform")


def torch_bias_init(fan_in: int) -> Callable[..., jax.Array]:
    """torch's bias init: U(±1/√fan_in) (bound 0 when fan_in is 0, as torch)."""
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0

    def init(key: jax.Array, shape: tuple[int, ...], dtype: Any = jnp.float32) -> jax.Array:
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


def linear(in_features: int, out_features: int, *, rngs: nnx.Rngs, dtype: Any = jnp.float32,
           use_bias: bool = True) -> nnx.Linear:
    """``nn.Linear(in_features, out_features)`` as an ``nnx.Linear`` with torch's init distribution."""
    return nnx.Linear(in_features, out_features, use_bias=use_bias, param_dtype=dtype,
                      kernel_init=torch_kernel_init(), bias_init=torch_bias_init(in_features), rngs=rngs)


def conv2d(in_channels: int, out_channels: int, kernel_size: int | tuple[int, int], *, rngs: nnx.Rngs,
           stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
           dtype: Any = jnp.float32, use_bias: bool = True) -> nnx.Conv:
    """``nn.Conv2d`` as an ``nnx.Conv`` (NHWC): torch's defaults (padding 0, not flax's 'SAME') and init.

    It convolves with :func:`jaxport.conv.conv_general_dilated` (patches × matrix), which XLA runs
    several times faster on CPU than its own convolution, at the same values within rounding."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return nnx.Conv(in_channels, out_channels, (kh, kw), strides=stride, padding=((ph, ph), (pw, pw)),
                    use_bias=use_bias, param_dtype=dtype, kernel_init=torch_kernel_init(),
                    bias_init=torch_bias_init(in_channels * kh * kw), rngs=rngs,
                    conv_general_dilated=conv.conv_general_dilated)


def batch_norm2d(num_features: int, *, rngs: nnx.Rngs, momentum: float = 0.1, eps: float = 1e-5,
                 dtype: Any = jnp.float32) -> nnx.BatchNorm:
    """``nn.BatchNorm2d`` as an ``nnx.BatchNorm`` over the last (channel) axis of NHWC input.

    torch's ``momentum`` weighs the *new* batch, flax's the old average: flax gets ``1 - momentum``.
    Two-pass variance (``use_fast_variance=False``) as torch. ``nnx.BatchNorm`` makes its running
    statistics float32 whatever ``param_dtype`` is; here they get ``dtype`` too. One difference
    remains in training: torch updates ``running_var`` with the unbiased batch variance (× n/(n-1)),
    flax with the biased one; the normalised outputs agree.
    """
    bn = nnx.BatchNorm(num_features, momentum=1.0 - momentum, epsilon=eps, use_fast_variance=False,
                       param_dtype=dtype, rngs=rngs)
    bn.mean = nnx.BatchStat(jnp.zeros((num_features,), dtype))
    bn.var = nnx.BatchStat(jnp.ones((num_features,), dtype))
    return bn


# --------------------------------------------------------------------------------------------
# key and layout mapping
# --------------------------------------------------------------------------------------------

_TORCH_NAME = {"kernel": "weight", "scale": "weight", "embedding": "weight",
               "mean": "running_mean", "var": "running_var"}
_LAYER_ORDER = {"kernel": 0, "scale": 0, "embedding": 0, "bias": 1, "mean": 2, "var": 3}  # torch's order


def torch_key(path: Path, *, sequential_attr: str | None = "layers") -> str:
    """The torch ``state_dict`` key of an nnx state path: ``('layers', 0, 'kernel')`` → ``'0.weight'``."""
    parts = [str(p) for i, p in enumerate(path)
             if not (p == sequential_attr and i + 1 < len(path) and isinstance(path[i + 1], int))]
    parts[-1] = _TORCH_NAME.get(parts[-1], parts[-1])
    return ".".join(parts)


def _perm(name: Any, ndim: int, *, to_torch: bool) -> tuple[int, ...] | None:
    """Axis permutation between flax ``(*spatial, in, out)`` and torch ``(out, in, *spatial)``."""
    if name != "kernel" or ndim < 2:
        return None
    return (ndim - 1, ndim - 2, *range(ndim - 2)) if to_torch else (*range(2, ndim), 1, 0)


def _leaves(source: nnx.Module | nnx.State) -> list[tuple[Path, Any]]:
    """(path, Variable or array) for every leaf of the module's or state's flat state, sorted."""
    if isinstance(source, nnx.Module):
        source = nnx.state(source)
    if not isinstance(source, nnx.State):
        raise TypeError(f"expected an nnx.Module or nnx.State, got {type(source).__name__}")
    return list(nnx.to_flat_state(source))


def _mapped(leaf: Any) -> bool:
    """Params and batch statistics travel; RNG state and other variables do not."""
    if isinstance(leaf, nnx.Variable):
        return isinstance(leaf, (nnx.Param, nnx.BatchStat)) and leaf.get_raw_value() is not None
    return hasattr(leaf, "shape") and hasattr(leaf, "dtype")


def _value(leaf: Any) -> Any:
    return leaf.get_raw_value() if isinstance(leaf, nnx.Variable) else leaf


def _plan(leaves: list[tuple[Path, Any]], sequential_attr: str | None) -> dict[Path, str]:
    """nnx path → torch key for the mapped leaves; two paths on one key is an error."""
    plan: dict[Path, str] = {}
    seen: dict[str, Path] = {}
    for path, leaf in leaves:
        if not _mapped(leaf):
            continue
        key = torch_key(path, sequential_attr=sequential_attr)
        if key in seen:
            raise StateDictError(f"nnx paths {_dotted(seen[key])} and {_dotted(path)} both map to torch key {key!r}")
        plan[path], seen[key] = key, path
    return plan


def _counters(plan: Mapping[Path, str]) -> set[str]:
    """``<prefix>.num_batches_tracked`` for each BatchNorm-like node (one with a ``mean`` statistic)."""
    return {key[: -len("running_mean")] + "num_batches_tracked"
            for path, key in plan.items() if path[-1] == "mean" and key.endswith("running_mean")}


def _dotted(path: Path) -> str:
    return ".".join(str(p) for p in path)


def _to_numpy(value: Any, key: str = "?") -> np.ndarray:
    """A torch tensor, jax array or numpy array as numpy (a view where possible; copied later)."""
    try:
        if hasattr(value, "detach"):  # torch.Tensor, without importing torch
            value = value.detach().cpu().numpy()
        return np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as e:  # bfloat16, ragged lists, ...
        raise StateDictError(f"state_dict key {key!r}: cannot read it as an array ({type(e).__name__}: {e})") from None


# --------------------------------------------------------------------------------------------
# state_dict <-> nnx.State
# --------------------------------------------------------------------------------------------


def from_state_dict(target: nnx.Module | nnx.State, state_dict: Mapping[str, Any], *, strict: bool = True,
                    sequential_attr: str | None = "layers") -> nnx.State:
    """A new ``nnx.State`` shaped like ``target``'s, holding ``state_dict``'s values in flax layout.

    ``target`` is a module or its state (``nnx.split``), real or abstract (``nnx.eval_shape``): only
    its structure, shapes and dtypes are read. Use the result with ``nnx.update(model, state)`` or
    ``nnx.merge(graphdef, state)``. Values are copied; the dtype must match the target's exactly.
    With ``strict=False`` a missing key keeps the target's leaf as it is (abstract, if it was).

    Raises:
        StateDictError: a key is missing or unexpected (``strict``), or a shape or dtype differs
            (always, as torch). Non-finite values are converted like any other.
    """
    leaves = _leaves(target)
    plan = _plan(leaves, sequential_attr)
    new: list[tuple[Path, Any]] = []
    for path, leaf in leaves:
        key = plan.get(path)
        if key is None or key not in state_dict:
            if key is not None and strict:
                v = _value(leaf)
                raise StateDictError(f"state_dict is missing key {key!r}: nothing found, expected shape "
                                     f"{_torch_shape(path, v.shape)} {np.dtype(v.dtype)} (nnx {_dotted(path)})")
            new.append((path, leaf))
            continue
        want = _value(leaf)
        arr = _to_numpy(state_dict[key], key)
        if arr.shape != _torch_shape(path, want.shape):
            raise StateDictError(f"state_dict key {key!r} has shape {arr.shape}, expected "
                                 f"{_torch_shape(path, want.shape)} (nnx {_dotted(path)} is {tuple(want.shape)})")
        if arr.dtype != np.dtype(want.dtype):
            raise StateDictError(f"state_dict key {key!r} has dtype {arr.dtype} (shape {arr.shape}), expected "
                                 f"{np.dtype(want.dtype)} (cast it, or build the module with param_dtype={arr.dtype})")
        perm = _perm(path[-1], arr.ndim, to_torch=False)
        value = jnp.asarray(np.array(arr if perm is None else arr.transpose(perm), order="C", copy=True))
        new.append((path, leaf.copy(value) if isinstance(leaf, nnx.Variable) else value))
    if strict:
        known = set(plan.values()) | _counters(plan)
        for key in state_dict:
            if key not in known:
                shape = tuple(getattr(state_dict[key], "shape", np.shape(state_dict[key])))
                raise StateDictError(f"state_dict has unexpected key {key!r} (shape {shape}): the module "
                                     f"has no such parameter, expected only {len(plan)} keys (strict=True)")
    return nnx.from_flat_state(new)


def _torch_shape(path: Path, shape: tuple[int, ...]) -> tuple[int, ...]:
    perm = _perm(path[-1], len(shape), to_torch=True)
    return tuple(shape) if perm is None else tuple(shape[i] for i in perm)


def to_state_dict(source: nnx.Module | nnx.State, *, extras: Mapping[str, Any] | None = None,
                  sequential_attr: str | None = "layers") -> dict[str, np.ndarray]:
    """torch's ``state_dict`` of an nnx module or state: torch key → C-contiguous, writable numpy array.

    ``torch.from_numpy`` each value and ``load_state_dict(..., strict=True)`` accepts it. Keys come in
    nnx's (sorted) node order and torch's order inside a layer (weight, bias, running stats).
    ``extras`` (torch-only buffers such as ``num_batches_tracked``) are copied through unchanged.

    Raises:
        StateDictError: an ``extras`` key collides with a converted one.
    """
    leaves = _leaves(source)
    plan = _plan(leaves, sequential_attr)
    first: dict[Path, int] = {}  # a layer's place = its first leaf's place in nnx's order
    for i, (path, _) in enumerate(leaves):
        first.setdefault(path[:-1], i)
    rank = {path: (first[path[:-1]], _LAYER_ORDER.get(path[-1], 4), i) for i, (path, _) in enumerate(leaves)}
    out: dict[str, np.ndarray] = {}
    for path, leaf in sorted(leaves, key=lambda pl: rank[pl[0]]):
        if path in plan:
            arr = np.asarray(_value(leaf))
            perm = _perm(path[-1], arr.ndim, to_torch=True)
            out[plan[path]] = np.array(arr if perm is None else arr.transpose(perm), order="C", copy=True)
    for key, value in (extras or {}).items():
        if key in out:
            raise StateDictError(f"extras key {key!r} (shape {tuple(np.shape(value))}) collides with the "
                                 f"converted parameter of shape {out[key].shape}")
        out[key] = np.array(_to_numpy(value, key), order="C", copy=True)
    return out


def torch_tree(source: nnx.Module | nnx.State, *, sequential_attr: str | None = "layers") -> dict[str, jax.Array]:
    """Traceable :func:`to_state_dict`: torch key → array in torch's layout, as JAX arrays.

    Works under ``jit``, ``grad`` and ``vmap`` (no NumPy, no copies), for use inside a pure step.
    """
    leaves = _leaves(source)
    plan = _plan(leaves, sequential_attr)
    out: dict[str, jax.Array] = {}
    for path, leaf in leaves:
        if path in plan:
            v = _value(leaf)
            perm = _perm(path[-1], v.ndim, to_torch=True)
            out[plan[path]] = v if perm is None else jnp.transpose(v, perm)
    return out


def nnx_tree(template: nnx.Module | nnx.State, tree: Mapping[str, jax.Array], *,
             sequential_attr: str | None = "layers") -> nnx.State:
    """Traceable :func:`from_state_dict`: an ``nnx.State`` shaped like ``template`` from torch-named arrays.

    Every mapped leaf of ``template`` must be in ``tree`` with torch's shape (checked at trace time);
    other leaves (RNG state) are taken from ``template``. The inverse of :func:`torch_tree`, so a
    pure step can keep its parameters as a torch-named dict, ``nnx.merge`` a module from them, and
    get gradients in torch's layout, comparable leaf by leaf with torch's ``.grad``.
    """
    leaves = _leaves(template)
    plan = _plan(leaves, sequential_attr)
    new: list[tuple[Path, Any]] = []
    for path, leaf in leaves:
        key = plan.get(path)
        if key is None:
            new.append((path, leaf))
            continue
        want = _value(leaf)
        if key not in tree:
            raise StateDictError(f"missing key {key!r}: expected shape {_torch_shape(path, want.shape)} (nnx {_dotted(path)})")
        v = tree[key]
        if tuple(v.shape) != _torch_shape(path, want.shape):
            raise StateDictError(f"key {key!r} has shape {tuple(v.shape)}, expected {_torch_shape(path, want.shape)} (nnx {_dotted(path)})")
        perm = _perm(path[-1], v.ndim, to_torch=False)
        v = v if perm is None else jnp.transpose(v, perm)
        new.append((path, leaf.replace(v) if isinstance(leaf, nnx.Variable) else v))
    return nnx.from_flat_state(new)


def torch_only_buffers(state_dict: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The entries with no flax counterpart (``*num_batches_tracked``), for ``to_state_dict(extras=...)``."""
    return {k: np.array(_to_numpy(v, k), copy=True) for k, v in state_dict.items()
            if k.rsplit(".", 1)[-1] == "num_batches_tracked"}


# --------------------------------------------------------------------------------------------
# plain params pytrees: {"0.weight": ...} <-> {"0": {"weight": ...}}, torch's names and layout
# --------------------------------------------------------------------------------------------


def unflatten_state_dict(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Nested dicts of numpy arrays from a flat ``state_dict``, split on ``.``; layout unchanged.

    For pure-JAX code without nnx: ``x @ p["0"]["weight"].T + p["0"]["bias"]`` (torch's
    ``(out, in)`` layout is kept, as are the names). Values are copied and keep their dtype.

    Raises:
        StateDictError: a key is both a leaf and a prefix (``"a"`` and ``"a.b"``), or has an empty part.
    """
    tree: dict[str, Any] = {}
    for key, value in state_dict.items():
        *parents, leaf = key.split(".")
        node = tree
        for part in [*parents, leaf]:
            if not part:
                raise StateDictError(f"state_dict key {key!r} has an empty part")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise StateDictError(f"state_dict key {key!r} runs through a leaf at {part!r}")
        if leaf in node:
            raise StateDictError(f"state_dict key {key!r} is both a leaf and a prefix of other keys")
        node[leaf] = np.array(_to_numpy(value, key), copy=True)
    return tree


def flatten_state_dict(tree: Mapping[str, Any], prefix: str = "") -> dict[str, np.ndarray]:
    """The inverse of :func:`unflatten_state_dict`: ``{"0": {"weight": w}}`` → ``{"0.weight": w}``."""
    out: dict[str, np.ndarray] = {}
    for name, value in tree.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            out.update(flatten_state_dict(value, prefix=key + "."))
        else:
            out[key] = np.array(_to_numpy(value, key), order="C", copy=True)
    return out
