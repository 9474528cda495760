"""Optimizer state between torch.optim and :mod:`jaxport.optim`: ``optimizer.state_dict()`` ↔ optax state.

Training can change frameworks mid-run: 50 steps in torch, then on in JAX from the very same
parameters *and* optimizer state (or the reverse), and the continuation is the run torch (or JAX)
would have made by itself (``parity_tests/test_optim_state.py``).

* :func:`optimizer_from_torch` builds the :mod:`jaxport.optim` twin of a torch optimizer from its
  class and settings (SGD, RMSprop, Adam, AdamW);
* :func:`from_torch` turns ``optimizer.state_dict()`` into that twin's state;
* :func:`to_torch` turns the twin's state back into a dict ``optimizer.load_state_dict`` accepts.

The parameters are named, as ``model.named_parameters()`` names them, and keep torch's layout
(``(out, in)`` weights: :func:`jaxport.convert.torch_tree`'s, or a plain ``{name: array}``): a
state's ``exp_avg.0.weight`` has ``0.weight``'s shape. torch's ``state_dict()`` knows its parameters
by index only (their place in ``param_groups``' ``params`` lists, which for one group over
``model.parameters()`` is ``named_parameters()``'s order), so both directions take
``param_names``, the names in that order.

What maps to what (the buffer names are :func:`jaxport.reference.optimizer_buffers`' from the
optimizer's settings; jaxport keeps them under the same names, :func:`jaxport.optim.state_to_flat`):

* ``state[i][buffer]`` (``momentum_buffer``, ``square_avg``, ``grad_avg``, ``exp_avg``,
  ``exp_avg_sq``, ``max_exp_avg_sq``) ↔ ``buffer.<name>``, same shape and dtype, values bit for bit;
* ``state[i]['step']`` (torch: a float scalar tensor, RMSprop and Adam) ↔ ``count.<name>`` (int32).
  SGD keeps no step; its count only says whether the momentum buffer exists yet (jaxport's first
  buffer is the raw gradient where the count is 0, as torch's where ``momentum_buffer`` is absent),
  so :func:`from_torch` makes it 1 where torch has a buffer, 0 where not, unless ``counts`` says;
* a parameter torch has no state for yet (torch creates it at the parameter's first step, or keeps
  ``momentum_buffer=None``) ↔ jaxport's initial state: zeros, count 0. :func:`to_torch` leaves such a
  parameter out, as torch does, so that torch starts it afresh too.

Errors are one line naming the parameter (and its index), what was found and what was expected:
:class:`OptimizerStateError` for a state that does not fit, :class:`UnsupportedOptimizerError` for a
torch optimizer or setting with no jaxport twin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxport import optim
from jaxport.convert import StateDictError
from jaxport.errors import UsageError
from jaxport.reference import optimizer_buffers, to_numpy

__all__ = [
    "OptimizerStateError",
    "UnsupportedOptimizerError",
    "from_torch",
    "optimizer_from_torch",
    "to_torch",
]

PyTree = Any

# the jaxport.optim state of each torch.optim family (AdamW keeps Adam's state)
_KIND = {optim.SgdState: "SGD", optim.RmspropState: "RMSprop", optim.AdamState: "Adam"}


class OptimizerStateError(StateDictError):
    """An optimizer state that does not fit: one line naming the parameter, what was found and expected."""


class UnsupportedOptimizerError(UsageError, ValueError):
    """A torch optimizer, or one of its settings, that :mod:`jaxport.optim` has no twin for."""


# --------------------------------------------------------------------------------------------
# torch optimizer -> jaxport.optim transformation
# --------------------------------------------------------------------------------------------

# group keys that are bookkeeping, not settings: the parameters themselves, their names (torch >= 2.6
# when built from named_parameters()), and the lr an LR scheduler started from
_NOT_SETTINGS = frozenset({"params", "param_names", "initial_lr"})
# kernel settings, with the values whose arithmetic jaxport.optim is proven against: torch's CPU
# single-tensor kernels, and foreach's multi-tensor ones (the same operations, per list of tensors;
# parity_tests/test_optim_state.py runs SGD, RMSprop and Adam with foreach=True). Refused: fused (another
# kernel), capturable and differentiable (Adam's bias corrections become float32 tensor arithmetic)
_KERNEL = {"foreach": (None, False, True), "differentiable": (False,), "capturable": (False,), "fused": (None, False)}


def _float(value: Any) -> float:
    return float(value.item() if hasattr(value, "item") else value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if hasattr(a, "item") or hasattr(b, "item"):
        try:
            return _float(a) == _float(b)
        except (TypeError, ValueError, RuntimeError):
            return False
    return a == b


def _class_name(optimizer: Any) -> str:
    cls = type(optimizer)
    return f"{cls.__module__}.{cls.__qualname__}"


def optimizer_from_torch(optimizer: Any) -> optax.GradientTransformationExtraArgs:
    """The :mod:`jaxport.optim` twin of a torch optimizer: same class, same settings, same arithmetic.

    ``torch.optim.SGD`` → :func:`jaxport.optim.sgd` (lr, momentum, dampening, weight_decay, nesterov,
    maximize); ``RMSprop`` → :func:`~jaxport.optim.rmsprop` (lr, alpha, eps, weight_decay, momentum,
    centered); ``Adam`` → :func:`~jaxport.optim.adam`, or :func:`~jaxport.optim.adamw` where
    ``decoupled_weight_decay``; ``AdamW`` → :func:`~jaxport.optim.adamw` (lr, betas, eps,
    weight_decay, amsgrad). Its state is what :func:`from_torch` fills from ``optimizer.state_dict()``.

    Raises:
        UnsupportedOptimizerError: another class (or a subclass, whose ``step`` may differ); param
            groups whose settings differ (one transformation has one set of settings: give each group
            its own and ``optax.multi_transform`` them); ``maximize=True`` outside SGD; a kernel
            jaxport.optim is not proven against (``fused=True``, ``capturable=True``,
            ``differentiable=True``; ``foreach`` is fine); a setting this module does not know.
    """
    import torch

    twins = {torch.optim.SGD: "SGD", torch.optim.RMSprop: "RMSprop", torch.optim.Adam: "Adam", torch.optim.AdamW: "AdamW"}
    name = _class_name(optimizer)
    kind = twins.get(type(optimizer))
    if kind is None:
        raise UnsupportedOptimizerError(
            f"optimizer_from_torch: {name} has no jaxport.optim twin (supported: torch.optim.SGD, RMSprop, Adam, "
            "AdamW, exactly those classes)")
    groups = list(optimizer.param_groups)
    if not groups:
        raise UnsupportedOptimizerError(f"optimizer_from_torch: {name} has no param_groups (expected at least one)")
    group = groups[0]
    for j, other in enumerate(groups[1:], 1):
        for key in sorted((set(group) | set(other)) - _NOT_SETTINGS):
            if not _same(group.get(key), other.get(key)):
                raise UnsupportedOptimizerError(
                    f"optimizer_from_torch: {name}'s param_groups[{j}] has {key}={other.get(key)!r} where param_groups[0] "
                    f"has {group.get(key)!r} (supported: groups that differ in their params only; build one jaxport "
                    "transformation per group and combine them with optax.multi_transform)")
    known = {
        "SGD": ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"),
        "RMSprop": ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"),
        "Adam": ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "decoupled_weight_decay"),
    }[kind if kind != "AdamW" else "Adam"]
    for key in sorted(set(group) - _NOT_SETTINGS):
        if key not in known and key not in _KERNEL:
            raise UnsupportedOptimizerError(
                f"optimizer_from_torch: {name} has setting {key}={group[key]!r}, unknown to jaxport "
                f"(supported: {', '.join(known + tuple(_KERNEL))})")
    for key, allowed in _KERNEL.items():
        if key in group and not any(group[key] is v for v in allowed):
            raise UnsupportedOptimizerError(
                f"optimizer_from_torch: {name} has {key}={group[key]!r}, a kernel jaxport.optim is not proven against "
                f"(supported: {key} in {allowed}: torch's single-tensor and foreach kernels)")
    if group.get("maximize", False) and kind != "SGD":
        raise UnsupportedOptimizerError(
            f"optimizer_from_torch: {name} has maximize=True, which jaxport.optim's {kind.lower()} lacks "
            "(supported: maximize=False; SGD supports both): negate the loss instead")
    if kind == "SGD":
        return optim.sgd(_float(group["lr"]), momentum=_float(group["momentum"]), dampening=_float(group["dampening"]),
                         weight_decay=_float(group["weight_decay"]), nesterov=bool(group["nesterov"]),
                         maximize=bool(group.get("maximize", False)))
    if kind == "RMSprop":
        return optim.rmsprop(_float(group["lr"]), alpha=_float(group["alpha"]), eps=_float(group["eps"]),
                             weight_decay=_float(group["weight_decay"]), momentum=_float(group["momentum"]),
                             centered=bool(group["centered"]))
    betas = (_float(group["betas"][0]), _float(group["betas"][1]))
    decoupled = kind == "AdamW" or bool(group.get("decoupled_weight_decay", False))
    make = optim.adamw if decoupled else optim.adam
    return make(_float(group["lr"]), betas=betas, eps=_float(group["eps"]), weight_decay=_float(group["weight_decay"]),
                amsgrad=bool(group["amsgrad"]))


# --------------------------------------------------------------------------------------------
# shared checks
# --------------------------------------------------------------------------------------------


def _group_kind(group: Mapping[str, Any]) -> str | None:
    """The torch.optim family a param group's settings belong to (its state is all this module reads)."""
    if "nesterov" in group:
        return "SGD"
    if "centered" in group and "alpha" in group:
        return "RMSprop"
    if "betas" in group and "amsgrad" in group:
        return "Adam"
    return None


def _group_buffers(kind: str, group: Mapping[str, Any]) -> tuple[str, ...]:
    """:func:`jaxport.reference.optimizer_buffers` of an optimizer of this family with this group's
    settings (a state_dict names no class: an uninitialised stand-in carries the group)."""
    import torch

    cls = {"SGD": torch.optim.SGD, "RMSprop": torch.optim.RMSprop, "Adam": torch.optim.Adam}[kind]
    stand_in = cls.__new__(cls)
    stand_in.param_groups = [group]
    return optimizer_buffers(stand_in)


def _describe(group: Mapping[str, Any]) -> str:
    keys = [k for k in ("momentum", "nesterov", "alpha", "centered", "betas", "amsgrad") if k in group]
    return ", ".join(f"{k}={group[k]!r}" for k in keys)


def _find_state(opt_state: PyTree, what: str) -> tuple[str, tuple[str, ...]]:
    """The torch.optim family of the one :mod:`jaxport.optim` optimizer state inside ``opt_state`` (a
    chain's tuple may hold stateless transformations beside it) and the buffers it keeps."""
    kinds = tuple(_KIND)
    found = [s for s in jax.tree.leaves(opt_state, is_leaf=lambda x: isinstance(x, kinds)) if isinstance(s, kinds)]
    if len(found) != 1:
        raise OptimizerStateError(
            f"{what}: the JAX state holds {len(found)} jaxport.optim SgdState/RmspropState/AdamState, expected exactly one "
            f"(got {type(opt_state).__name__})")
    state = found[0]
    buffers = tuple(f for f in state._fields if f != "count" and getattr(state, f) is not None)
    return _KIND[type(state)], buffers


def _check_names(flat: Mapping[str, Any], names: list[str], kind: str, buffers: tuple[str, ...], what: str) -> None:
    """Every leaf of the JAX state is ``count.<name>`` or ``<buffer>.<name>`` of a named parameter."""
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise OptimizerStateError(f"{what}: param_names lists {dup!r} twice (expected each parameter once)")
    have = {k[len("count."):] for k in flat if k.startswith("count.")}
    for n in names:
        if n not in have:
            raise OptimizerStateError(
                f"{what}: parameter {n!r} (index {names.index(n)}) is not in the JAX state, which holds "
                f"{sorted(have)}")
    for k in flat:
        field, _, param = k.partition(".")
        if field not in ("count", *buffers) or param not in names:
            raise OptimizerStateError(
                f"{what}: JAX state leaf {k!r} has no torch.optim counterpart (expected count.NAME or "
                f"{'/'.join(buffers) or 'nothing else'}.NAME for the {kind} parameters {names})")


def _check_group(group: Mapping[str, Any], j: int, kind: str, buffers: tuple[str, ...], what: str) -> None:
    found = _group_kind(group)
    if found != kind:
        raise OptimizerStateError(
            f"{what}: param_groups[{j}] is {found or 'an unknown optimizer'}'s ({_describe(group) or sorted(group)}), "
            f"the JAX state is {kind}'s (build it with optimizer_from_torch of the same torch optimizer)")
    expected = _group_buffers(kind, group)
    if set(expected) != set(buffers):
        raise OptimizerStateError(
            f"{what}: param_groups[{j}] ({_describe(group)}) keeps buffers {list(expected)}, the JAX {kind} state "
            f"keeps {list(buffers)} (build it with optimizer_from_torch of the same torch optimizer)")


def _index_names(groups: Sequence[Mapping[str, Any]], names: list[str], what: str) -> dict[Any, str]:
    """torch's parameter index → name: the groups' ``params`` lists in order, against ``names``."""
    ids = [i for g in groups for i in g["params"]]
    if len(ids) != len(names):
        raise OptimizerStateError(
            f"{what}: the param_groups hold {len(ids)} parameters, param_names has {len(names)} "
            "(expected the names of the optimizer's parameters, in param_groups order)")
    listed = [n for g in groups for n in g.get("param_names", ())]
    if listed and listed != names:
        bad = next(i for i, (a, b) in enumerate(zip(listed, names)) if a != b) if len(listed) == len(names) else 0
        raise OptimizerStateError(
            f"{what}: param_names[{bad}] is {names[bad]!r}, the param_groups name it "
            f"{listed[bad] if bad < len(listed) else None!r} (expected torch's order: {listed})")
    return dict(zip(ids, names))


# --------------------------------------------------------------------------------------------
# torch state_dict -> jaxport state
# --------------------------------------------------------------------------------------------


def _template(tx_or_template: Any, params: Mapping[str, Any] | None) -> PyTree:
    if isinstance(tx_or_template, optax.GradientTransformation):
        if params is None:
            raise UsageError("from_torch: given a transformation, it needs params= (the JAX parameters, for their shapes "
                             "and dtypes), or pass its state tx.init(params) instead")
        return jax.eval_shape(tx_or_template.init, params)
    return tx_or_template


def _step_count(value: Any, where: str) -> int:
    arr = to_numpy(value)
    if arr.shape != () or not np.isfinite(arr) or float(arr) < 0 or float(arr) != int(arr) or int(arr) >= 2**31:
        raise OptimizerStateError(f"{where}: 'step' is {arr.tolist()!r} {arr.dtype}, expected a scalar whole number >= 0")
    return int(arr)


def from_torch(optimizer_state_dict: Mapping[str, Any], param_names: Sequence[str], tx_or_template: Any, *,
               params: Mapping[str, Any] | None = None, counts: Mapping[str, int] | None = None) -> PyTree:
    """torch's ``optimizer.state_dict()`` as the :mod:`jaxport.optim` state of the same parameters.

    Args:
        optimizer_state_dict: ``{'state': {index: {buffer: tensor, 'step': tensor}}, 'param_groups':
            [{'params': [index, ...], setting: value}]}``, its tensors torch's or NumPy arrays.
        param_names: the parameters' names in the order of the groups' ``params`` (one group over
            ``model.parameters()``: ``[n for n, _ in model.named_parameters()]``); the JAX state's names.
        tx_or_template: the state to fill, as ``tx.init(params)`` or ``jax.eval_shape(tx.init, params)``
            (a chain's state is fine, e.g. ``optax.chain(optim.clip_grad_norm(1.0), tx)``'s), or the
            transformation ``tx`` itself together with ``params``.
        params: the JAX parameters (arrays or shape-dtype structs), when ``tx_or_template`` is a transformation.
        counts: each parameter's step count where torch keeps none (SGD); default 1 where torch has a
            momentum buffer, else 0, which is all jaxport's SGD reads of it. Where torch keeps ``step``,
            ``counts`` must agree with it.

    Returns:
        The state shaped like the template: buffers bit for bit as torch's, counts int32, and the
        initial state (zeros, count 0) for a parameter torch has no state for yet.

    Raises:
        OptimizerStateError: a different optimizer family or buffer set than the template's (e.g. a
            torch ``amsgrad=True`` state for an Adam without it), a missing or unexpected buffer, a
            shape or dtype that differs, names that do not match the state's parameters.
    """
    what = "from_torch"
    template = _template(tx_or_template, params)
    kind, buffers = _find_state(template, what)
    flat_template = optim.state_to_flat(template)
    names = list(param_names)
    if not isinstance(optimizer_state_dict, Mapping) or not {"state", "param_groups"} <= set(optimizer_state_dict):
        found = sorted(optimizer_state_dict) if isinstance(optimizer_state_dict, Mapping) else type(optimizer_state_dict).__name__
        raise OptimizerStateError(f"{what}: expected a torch optimizer state_dict with 'state' and 'param_groups', got {found}")
    groups = list(optimizer_state_dict["param_groups"])
    for j, group in enumerate(groups):
        _check_group(group, j, kind, buffers, what)
    by_index = _index_names(groups, names, what)
    _check_names(flat_template, names, kind, buffers, what)
    state = optimizer_state_dict["state"]
    for index in state:
        if index not in by_index:
            raise OptimizerStateError(
                f"{what}: state has an entry for parameter index {index!r}, the param_groups hold indices {list(by_index)}")
    flat: dict[str, Any] = {}
    for index, name in by_index.items():
        where = f"{what}: parameter {name!r} (index {index})"
        entry = {k: v for k, v in state.get(index, {}).items() if v is not None}  # SGD may keep momentum_buffer=None
        for key in entry:
            if key != "step" and key not in buffers:
                raise OptimizerStateError(
                    f"{where}: torch state has buffer {key!r}, the JAX {kind} state keeps {list(buffers)} (and 'step')")
        started = any(b in entry for b in buffers)
        for b in buffers:
            leaf = flat_template[f"{b}.{name}"]
            if b not in entry:
                if started:
                    raise OptimizerStateError(
                        f"{where}: torch state lacks buffer {b!r} (it has {sorted(entry)}; expected {list(buffers)})")
                flat[f"{b}.{name}"] = jnp.zeros(leaf.shape, leaf.dtype)
                continue
            arr = to_numpy(entry[b])
            if arr.shape != tuple(leaf.shape):
                raise OptimizerStateError(f"{where}: {b!r} has shape {arr.shape}, expected {tuple(leaf.shape)}")
            if arr.dtype != np.dtype(leaf.dtype):
                raise OptimizerStateError(f"{where}: {b!r} has dtype {arr.dtype}, expected {np.dtype(leaf.dtype)} "
                                          "(the JAX parameter's; cast one side)")
            flat[f"{b}.{name}"] = jnp.asarray(np.array(arr, copy=True))
        if "step" in entry:
            count = _step_count(entry["step"], where)
            if counts is not None and name in counts and int(counts[name]) != count:
                raise OptimizerStateError(f"{where}: counts gives {int(counts[name])}, torch's 'step' is {count}")
        elif counts is not None and name in counts:
            count = int(counts[name])
            if buffers and (count > 0) != started:  # SGD: the count says whether the buffer exists yet
                raise OptimizerStateError(
                    f"{where}: counts gives {count}, but torch {'has' if started else 'has no'} momentum_buffer "
                    f"(expected a count {'above 0' if started else 'of 0'})")
        elif started and kind != "SGD":
            raise OptimizerStateError(f"{where}: torch state lacks 'step' (it has {sorted(entry)}; expected 'step' "
                                      f"beside {list(buffers)})")
        else:
            count = int(started)
        leaf = flat_template[f"count.{name}"]
        flat[f"count.{name}"] = jnp.asarray(count, dtype=leaf.dtype)
    return optim.state_from_flat(template, flat)


# --------------------------------------------------------------------------------------------
# jaxport state -> torch state_dict
# --------------------------------------------------------------------------------------------


def _torch_groups(source: Any, what: str) -> tuple[list[dict[str, Any]], list[Any] | None, Any]:
    """(param groups with integer ``params``, the parameters where known, the optimizer where given)."""
    if hasattr(source, "state_dict") and hasattr(source, "param_groups"):
        groups = source.state_dict()["param_groups"]
        return groups, [p for g in source.param_groups for p in g["params"]], source
    if isinstance(source, Mapping) or not isinstance(source, Sequence):
        raise UsageError(f"{what}: expected a torch optimizer or its param_groups (a list of dicts), "
                         f"got {type(source).__name__}")
    groups, tensors, start = [], [], 0
    for group in source:
        ps = list(group["params"])
        if all(isinstance(p, (int, np.integer)) for p in ps):
            ids = [int(p) for p in ps]
        else:  # torch's own param_groups: number the tensors as state_dict() does
            tensors.extend(ps)
            ids = list(range(start, start + len(ps)))
        start += len(ps)
        groups.append({**group, "params": ids})
    return groups, (tensors or None), None


def to_torch(opt_state: PyTree, param_names: Sequence[str], torch_optimizer_or_param_groups: Any) -> dict[str, Any]:
    """A :mod:`jaxport.optim` state as a torch optimizer's ``state_dict()``, for ``optimizer.load_state_dict``.

    Args:
        opt_state: the JAX state (a chain's is fine) of the parameters named ``param_names``.
        param_names: the parameters' names in the torch optimizer's ``param_groups`` order (one group over
            ``model.parameters()``: ``[n for n, _ in model.named_parameters()]``).
        torch_optimizer_or_param_groups: the torch optimizer that will load it (its settings are what the
            dict carries, as ``load_state_dict`` sets them), or its ``param_groups`` (with tensors, or
            with the integer indices of a ``state_dict()``).

    Returns:
        ``{'state': {index: {'step': tensor, buffer: tensor}}, 'param_groups': [...]}``: CPU tensors of the
        JAX leaves' dtypes (``load_state_dict`` moves them to each parameter's device), ``step`` a float
        scalar of torch's default dtype as torch's own. A parameter whose count is 0 and whose buffers are
        zero gets no entry (torch initialises it at its first step, as the JAX state is); SGD's momentum
        buffer goes only where the count is above 0 (before that, both take the raw gradient).

    Raises:
        OptimizerStateError: the torch optimizer is another family, or its settings keep other buffers than
            the state; names or a buffer's shape that do not match its parameters.
    """
    import torch

    what = "to_torch"
    kind, buffers = _find_state(opt_state, what)
    flat = optim.state_to_flat(opt_state)
    names = list(param_names)
    groups, tensors, optimizer = _torch_groups(torch_optimizer_or_param_groups, what)
    for j, group in enumerate(groups):
        _check_group(group, j, kind, buffers, what)
    if optimizer is not None and set(optimizer_buffers(optimizer)) != set(buffers):
        raise OptimizerStateError(f"{what}: {_class_name(optimizer)} keeps buffers {list(optimizer_buffers(optimizer))}, "
                                  f"the JAX {kind} state keeps {list(buffers)}")
    by_index = _index_names(groups, names, what)
    _check_names(flat, names, kind, buffers, what)
    buffers = optimizer_buffers(optimizer) if optimizer is not None else _group_buffers(kind, groups[0])  # torch's order
    shapes = None if tensors is None else dict(zip(by_index, (tuple(p.shape) for p in tensors)))
    state: dict[int, dict[str, Any]] = {}
    for index, name in by_index.items():
        count = int(np.asarray(flat[f"count.{name}"]))
        values = {b: np.asarray(flat[f"{b}.{name}"]) for b in buffers}
        for b, v in values.items():
            if shapes is not None and v.shape != shapes[index]:
                raise OptimizerStateError(f"{what}: parameter {name!r} (index {index}): JAX {b!r} has shape {v.shape}, "
                                          f"the torch parameter {shapes[index]}")
        if kind == "SGD":
            if count > 0 and values:
                state[index] = {b: torch.from_numpy(np.array(v, copy=True)) for b, v in values.items()}
            continue
        if count == 0 and not any(np.any(v != 0) for v in values.values()):
            continue
        state[index] = {"step": torch.tensor(float(count)),
                        **{b: torch.from_numpy(np.array(v, copy=True)) for b, v in values.items()}}
    return {"state": state, "param_groups": groups}
