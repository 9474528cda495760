"""The short path for your own model: a torch ``nn.Module``, its flax nnx port, a loss and a torch
optimizer, checked in every regime without writing an example or a reference.

    from jaxport import check

    comparisons = check.check(
        torch_model=lambda: torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)),
        nnx_model=lambda rngs: MyMLP(rngs=rngs),   # attribute paths mirror torch's module names
        loss="mse",                                 # or "cross_entropy", or (torch_fn, jax_fn)
        optimizer=lambda params: torch.optim.Adam(params, lr=1e-3),
        data={"x": x, "y": y},                      # arrays; batches=True: a leading step axis
        steps=200,
    )
    print(check.report(comparisons))

:func:`example` builds the :class:`~jaxport.spec.TrainingExample` (and a torch reference for it) that
:func:`check` compares, so a port file can define ``EXAMPLE = check.example(...)`` and get ``jaxport
compare my_port.py``, ``--seeds``, ``--json`` and ``--data`` like a catalog example.

What it does for you:

* initial values: the torch model's own init under ``torch.manual_seed(seed)`` (float64 copies), the
  same values for both frameworks; ``--seed S`` draws again with seed S;
* the nnx model gets them by name (:func:`jaxport.convert.nnx_tree`: ``weight`` ↔ ``kernel``/``scale``,
  OIHW ↔ HWIO, Linear's transposed kernel), a missing or mis-shaped key one line naming it;
* the optimizer is torch's, read from its class and settings (:func:`jaxport.optim_state.optimizer_from_torch`:
  SGD, RMSprop, Adam, AdamW with torch's arithmetic; anything else is refused, named);
* the torch loop is the usual one (``zero_grad``, ``loss.backward()``, ``optimizer.step()``) over the
  same data, recording what the harness needs.

Models with buffers (BatchNorm's running statistics) need their update carried as training state: a
port file with its own reference does that (``parity_tests/user_port``); :func:`example` refuses them.
"""

from __future__ import annotations

import dataclasses
import importlib.machinery
import itertools
import re
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxport import convert
from jaxport.data import np_dtype
from jaxport.errors import UsageError
from jaxport.spec import Positive, TrainingExample

LOSSES = ("mse", "cross_entropy")
_BUILT = itertools.count()


@dataclasses.dataclass(frozen=True)
class Config:
    steps: Positive = 100
    dtype: str = "float32"
    print_every: Positive = 10  # a line "t loss" every print_every steps


def _losses(loss: str | tuple[Callable, Callable]) -> tuple[Callable, Callable]:
    """(torch_fn(output, target), jax_fn(output, target)), both the batch mean: the names are
    :mod:`jaxport.divergence`'s (one table for both), its ``None`` (outputs only) not a training loss."""
    from jaxport import divergence

    try:
        pair = divergence.loss_pair(loss) if loss is not None else None
    except UsageError:
        pair = None
    if pair is None:
        raise UsageError(f"check: loss {loss!r}: expected one of {', '.join(LOSSES)} or a pair (torch_fn, jax_fn)")
    return pair.torch_fn, pair.jax_fn


def _torch_init(torch_model: Callable[[], Any], seed: int) -> dict[str, np.ndarray]:
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = torch_model()
    return {k: p.detach().to(torch.float64).numpy().copy() for k, p in model.named_parameters()}


def example(*, torch_model: Callable[[], Any], nnx_model: Callable[[nnx.Rngs], nnx.Module],
            loss: str | tuple[Callable, Callable], optimizer: Callable[[Any], Any],
            data: Mapping[str, np.ndarray], steps: int = 100, batches: bool = False, name: str = "my_model",
            print_every: int = 10, id: str = "U00", sequential_attr: str | None = "layers") -> TrainingExample:
    """A training example (and its torch reference) from a model pair, a loss and a torch optimizer.

    Args:
        torch_model: builds the torch ``nn.Module`` (called once per run; its parameters are set from
            the initial values, so its own init only matters for :meth:`Example.init`).
        nnx_model: builds the nnx port from an ``nnx.Rngs``; its attribute paths mirror torch's module
            names (``self.layers = nnx.List([...])`` for an ``nn.Sequential``).
        loss: ``"mse"``, ``"cross_entropy"`` (integer targets) or ``(torch_fn, jax_fn)``, each
            ``(output, target) -> scalar``.
        optimizer: ``params -> torch.optim.Optimizer`` (e.g. ``lambda p: torch.optim.SGD(p, lr=0.1)``).
        data: ``x`` (the model's input) and ``y`` (the target); with ``batches=True`` each has a
            leading step axis (step t trains on ``x[t]``, ``y[t]``), else every step sees all of it.
        steps, print_every: the run's length and how often it prints ``t loss``.
        sequential_attr: the nnx attribute that stands for a top-level ``nn.Sequential`` (its name is
            dropped from the keys: ``layers.0.kernel`` → ``0.weight``); ``None`` keeps every name
            (``nn.TransformerEncoder``'s own ``layers`` ModuleList is part of torch's keys).
    """
    torch_loss, jax_loss = _losses(loss)
    if set(data) != {"x", "y"}:
        raise UsageError(f"check: data has {sorted(data)}, expected exactly 'x' (the input) and 'y' (the target)")
    arrays = {k: np.asarray(v) for k, v in data.items()}
    if batches and not all(a.ndim >= 1 and a.shape[0] >= steps for a in arrays.values()):
        raise UsageError(f"check: batches=True needs a leading step axis of at least steps={steps} on x and y, "
                         f"got {[a.shape for a in arrays.values()]}")
    probe = torch_model()
    buffers = [k for k, _ in probe.named_buffers()]
    if buffers:
        raise UsageError(f"check: the torch model has buffers ({', '.join(buffers[:3])}...): their update is training "
                         "state check cannot carry; write a port file with its own reference (parity_tests/user_port)")
    shapes = {k: tuple(p.shape) for k, p in probe.named_parameters()}
    graphdef, template = nnx.split(nnx.eval_shape(lambda: nnx_model(nnx.Rngs(0))))
    names = jax.eval_shape(lambda st: convert.torch_tree(st, sequential_attr=sequential_attr), template)
    missing = [k for k in names if k not in shapes]
    if missing:
        raise UsageError(f"check: the nnx model has {missing[0]!r}, which the torch model has not (torch's: {', '.join(shapes)})")
    extra = [k for k in shapes if k not in names]
    if extra:
        raise UsageError(f"check: the torch model has {extra[0]!r}, which the nnx model has not (nnx's, as torch keys: "
                         f"{', '.join(names)})")
    for k, sds in names.items():
        if tuple(sds.shape) != shapes[k]:
            raise UsageError(f"check: {k!r} is {list(shapes[k])} in torch and {list(sds.shape)} in the nnx model "
                             "(in torch's layout: Linear (out, in), Conv OIHW)")
    twin = _twin(optimizer, probe)
    # one reference module per example built (two examples of one name keep their own torch sides)
    ref_name = "jaxport_check_" + re.sub(r"\W", "_", f"{id}_{name}") + f"_{next(_BUILT)}"

    def make_data(cfg: Config) -> dict[str, np.ndarray]:
        t = np_dtype(cfg.dtype)
        return {k: a.astype(t) if a.dtype.kind == "f" else a for k, a in arrays.items()}

    def loss_fn(params: Mapping[str, jax.Array], batch: Mapping[str, jax.Array]) -> jax.Array:
        model = nnx.merge(graphdef, convert.nnx_tree(template, params, sequential_attr=sequential_attr))
        return jax_loss(model(batch["x"]), batch["y"])

    def diagnose(params: Mapping[str, np.ndarray], batch: Mapping[str, Any], cfg: Config) -> list[str]:
        """Where the port parts at these parameters: the first layer output, in forward order, then the first
        parameter gradient, in backward order, beyond its rounding bound (:func:`jaxport.divergence.locate`)."""
        import torch

        from jaxport import divergence

        dt = torch.float32 if cfg.dtype == "float32" else torch.float64
        tm = torch_model().to(dt)
        tm.load_state_dict({k: torch.tensor(np.asarray(v), dtype=dt) for k, v in params.items()}, strict=True)
        nm = nnx.merge(graphdef, convert.nnx_tree(template, {k: jnp.asarray(v) for k, v in params.items()},
                                                  sequential_attr=sequential_attr))
        rep = divergence.locate(tm, nm, np.asarray(batch["x"]), loss=(torch_loss, jax_loss), targets=np.asarray(batch["y"]),
                                dtype=cfg.dtype, sequential_attr=sequential_attr)
        if rep.first is None:
            return ["no layer output, loss or gradient departs at these parameters: the difference is in the update"]
        out = [rep.first.line()] + ([f"  {rep.first.note}"] if rep.first.note else [])
        if rep.gradient is not None and rep.gradient is not rep.first:
            out.append(rep.gradient.line("then, first gradient divergence"))
        return out

    ex = TrainingExample(
        id=id, name=name, reference=ref_name, config=Config(steps=steps, print_every=print_every),
        param_shapes=shapes, make_data=make_data, loss_and_grad=jax.value_and_grad(loss_fn),
        optimizer=lambda cfg: twin, report_line=lambda t, aux: f"{t} {float(aux['loss'])}",
        result_lines=lambda state, last: [f"final loss {last}"],
        default_init=_torch_init(torch_model, 0), draw=lambda seed: _torch_init(torch_model, seed),
        per_step=("x", "y") if batches else (), diagnose=diagnose,
    )
    _register_reference(ref_name, f"{id} {name}", torch_model, torch_loss, optimizer, batches)
    return ex


def _twin(optimizer: Callable[[Any], Any], probe: Any) -> optax.GradientTransformation:
    from jaxport.optim_state import optimizer_from_torch

    return optimizer_from_torch(optimizer(probe.parameters()))


def _register_reference(module_name: str, label: str, torch_model: Callable[[], Any], torch_loss: Callable,
                        optimizer: Callable[[Any], Any], batches: bool) -> None:
    """The torch side as a module (``FRAMEWORK``, ``train``) the harness imports by ``example.reference``."""
    from jaxport.reference import optimizer_state, run_context

    def train(params, data, cfg, *, device="cpu", record=False, report=None):
        import torch

        run = run_context(label, "torch", cfg, device, record, report)
        model = torch_model().to(device=run.device, dtype=run.dtype)
        model.load_state_dict({k: torch.tensor(v, device=run.device, dtype=run.dtype) for k, v in params.items()},
                              strict=True)
        opt = optimizer(model.parameters())
        names = [k for k, _ in model.named_parameters()]
        counted = isinstance(opt, torch.optim.SGD)  # SGD keeps no step count: jaxport's counts the steps

        def state(t: int) -> dict:
            return optimizer_state(model, opt, counts={k: t for k in names} if counted else None)

        x_all = torch.tensor(data["x"], device=run.device)
        y_all = torch.tensor(data["y"], device=run.device)
        for t in range(cfg.steps):
            x, y = (x_all[t], y_all[t]) if batches else (x_all, y_all)
            loss = torch_loss(model(x), y)
            run.rec.loss(loss)
            if t % cfg.print_every == cfg.print_every - 1:
                run.rec.print(f"{t} {loss.item()}")
            opt.zero_grad()
            loss.backward()
            if run.record:
                run.rec.step(state(t), {k: p.grad for k, p in model.named_parameters()}, opt, dict(model.named_parameters()))
            opt.step()
        run.rec.print(f"final loss {loss.item()}")
        return run.rec.finish(state(cfg.steps))

    module = types.ModuleType(module_name, f"The torch reference jaxport.check built for {label}.")
    module.__spec__ = importlib.machinery.ModuleSpec(module_name, None)
    module.FRAMEWORK = "torch"
    module.train = train
    sys.modules[module_name] = module


def check(*, dtype: str | Sequence[str] = "both", seed: int | None = None, device: str = "cpu", **kwargs: Any) -> list:
    """Build :func:`example` from ``kwargs`` and compare it in every regime, per dtype ('float32',
    'float64' or 'both'): the :class:`jaxport.harness.Comparison` of each (``.passed``, ``.regimes``)."""
    from jaxport import harness

    ex = example(**kwargs)
    dtypes = ("float32", "float64") if dtype == "both" else ((dtype,) if isinstance(dtype, str) else tuple(dtype))
    return [harness.compare(ex, ex.init(seed), dtype=d, device=device) for d in dtypes]


def report(comparisons: Sequence[Any]) -> str:
    """The text report of :func:`check`'s comparisons, as ``jaxport compare`` prints it."""
    from jaxport import report as report_mod

    return "\n".join(report_mod.table(c) for c in comparisons)
