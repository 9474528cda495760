"""E23 grad_clipping — seed 003, "gradient clipping".

The notes clip between ``loss.backward()`` and ``optimizer.step()``, in place on every ``p.grad``::

    torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=1)   # by value
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm=1)     # by norm ("stacks all the
                                                                        #  parameters into a single vector")

The contrast: in optax a clip is a gradient transformation like any optimizer, so "clip, then
step" is a chain, ``optax.chain(optim.clip_grad_value(1), optim.sgd(lr))``, applied to gradients
that are values (nothing is modified in place). ``optim.clip_grad_value`` is ``optax.clip``, exactly.
``optim.clip_grad_norm`` is torch's ``g *= min(max_norm / (total_norm + 1e-6), 1)``; plain
``optax.clip_by_global_norm`` has no 1e-6 and leaves a norm just under the threshold alone (the
test shows the difference at the threshold). The total norm torch returns is ``optax.tree.norm``.
The 1e-6 is a 1e-6/total_norm relative effect, invisible at E23's norms in float32; so the values also
clip small gradients: the gradients scaled to a total norm of ``small_norm`` (``small.*``) and clipped by
norm at half of it (``clip_small.*``), where torch's coefficient ``0.5e-4/(1e-4 + 1e-6)`` is 1% from
the ``0.5`` a clip without the 1e-6 gives.
The notes' own by-norm line raises ``TypeError``: the keyword is ``max_norm`` (in optax too).

The notes show no model or data. Here: ``model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(),
nn.Linear(8, 3))`` (a flax ``nnx.Sequential``; its state maps to torch's keys ``0.weight``, ``2.bias``),
``nn.MSELoss()`` and ``optim.SGD(lr=0.01)`` from the same notes' blitz, and one batch of 8 inputs and
targets drawn from ``default_rng(data_seed)`` at scale 3, so that some gradient entries exceed 1
and the total norm exceeds 1 (both clips act). ``DEFAULT_INIT`` is torch's ``nn.Linear`` init
distribution (U(±1/√in_features)) drawn once in NumPy from ``default_rng(0)`` in ``state_dict`` order;
``--seed S`` draws standard normals instead.

No equivalent by design: ``clip_grad_value_``/``clip_grad_norm_`` rewriting each ``p.grad`` in place
between ``backward()`` and ``step()``: in JAX clipping is a transformation of the gradient pytree,
chained before the optimizer; the total norm torch returns is a returned value too.
"""

import dataclasses
import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxport import convert, optim, params
from jaxport.catalog import identity
from jaxport.data import np_dtype
from jaxport.spec import Magnitude, NonNegative, ValuesExample

Params = Mapping[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Config:
    lr: float = 0.01  # the notes' blitz: optim.SGD(net.parameters(), lr=0.01)
    clip_value: Magnitude = 1.0  # seed: clip_grad_value_(model.parameters(), clip_value=1)
    max_norm: Magnitude = 1.0  # seed: clip_grad_norm_(model.parameters(), clip_norm=1) (torch's keyword: max_norm)
    dtype: str = "float32"  # torch's default dtype
    small_norm: Magnitude = 1e-4  # not in the notes: small gradients' total norm, where torch's + 1e-6 is 1% (clip_small)
    data_seed: NonNegative = 0  # input (8, 4) and target (8, 3): 3 * numpy.random.default_rng(data_seed) standard normals


CONFIG = Config()
LAYERS = (("0", 4, 8), ("2", 8, 3))  # nn.Sequential's indices: Linear(4, 8), ReLU (1, no parameters), Linear(8, 3)
SHAPES = {f"{name}.{leaf}": shape for name, i, o in LAYERS for leaf, shape in (("weight", (o, i)), ("bias", (o,)))}


DEFAULT_INIT = params.torch_init(SHAPES, 0)  # torch's default init distribution, drawn in NumPy


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(cfg.data_seed)
    t = np_dtype(cfg.dtype)
    return {"input": (3 * rng.standard_normal((8, 4))).astype(t), "target": (3 * rng.standard_normal((8, 3))).astype(t)}


# phase: setup
@functools.cache
def _template(dtype: jnp.dtype) -> tuple[nnx.GraphDef, nnx.State]:
    """The abstract ``nnx.Sequential`` (shapes only, nothing drawn) that :func:`model` fills."""
    return nnx.split(nnx.eval_shape(lambda: nnx.Sequential(
        convert.linear(4, 8, rngs=nnx.Rngs(0), dtype=dtype), nnx.relu, convert.linear(8, 3, rngs=nnx.Rngs(0), dtype=dtype))))


# phase: model
def model(params: Params) -> nnx.Sequential:
    """The Sequential holding ``params`` (torch's keys ``0.weight`` ... and layout); traceable."""
    graphdef, state = _template(jnp.dtype(params["0.weight"].dtype))
    return nnx.merge(graphdef, convert.nnx_tree(state, params))


# phase: loss
def loss_fn(params: Params, data: Mapping[str, jax.Array]) -> jax.Array:
    # nn.MSELoss(): the mean of the squared errors
    return jnp.mean((model(params)(data["input"]) - data["target"]) ** 2)


# phase: gradients
loss_and_grad = jax.value_and_grad(loss_fn)


# phase: update
def clipped_step(clip: optax.GradientTransformation, params: Params, grads: Params, cfg: Config) -> tuple[dict, dict]:
    """``clip(...)`` then ``optimizer.step()`` as one chain: the clipped gradients and the new parameters."""
    clipped, _ = clip.update(dict(grads), clip.init(params), params)
    tx = optax.chain(clip, optim.sgd(cfg.lr))
    updates, _ = tx.update(dict(grads), tx.init(params), params)
    return clipped, optax.apply_updates(dict(params), updates)


# phase: report
@functools.partial(jax.jit, static_argnums=2)
def values(params: Params, data: Mapping[str, jax.Array], cfg: Config) -> dict[str, jax.Array]:
    """The loss, the raw gradients, both clips of them, torch's total norm, and the SGD step after each clip;
    and small gradients (scaled to a total norm of ``small_norm``) clipped by norm at half of it."""
    loss, grads = loss_and_grad(params, data)  # optimizer.zero_grad(); loss.backward()
    by_value, after_value = clipped_step(optim.clip_grad_value(cfg.clip_value), params, grads, cfg)
    by_norm, after_norm = clipped_step(optim.clip_grad_norm(cfg.max_norm), params, grads, cfg)
    total_norm = optax.tree.norm(grads)  # what clip_grad_norm_ returns
    small = {k: g * (cfg.small_norm / total_norm) for k, g in grads.items()}  # total norm small_norm (to rounding)
    clip_small, _ = optim.clip_grad_norm(cfg.small_norm / 2).update(small, optax.EmptyState())  # x 0.5/(1 + 1e-2)
    out = {"loss": loss, "total_norm": total_norm}
    for name, tree in (("grad", grads), ("clip_value", by_value), ("clip_norm", by_norm),
                       ("step_value", after_value), ("step_norm", after_norm),
                       ("small", small), ("clip_small", clip_small)):
        out.update({f"{name}.{k}": v for k, v in tree.items()})
    return out


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    lines = [f"loss: {float(vals['loss'])}", "max |p.grad|   backward   clip_grad_value_(1)   clip_grad_norm_(1)"]
    for k in SHAPES:
        raw, by_value, by_norm = (float(np.abs(vals[f"{kind}.{k}"]).max()) for kind in ("grad", "clip_value", "clip_norm"))
        lines.append(f"{k:<12}   {raw:8.4f}   {by_value:19.4f}   {by_norm:18.4f}")
    raw = sum(float(np.abs(vals[f"grad.{k}"]).sum()) for k in SHAPES)
    coef = sum(float(np.abs(vals[f"clip_norm.{k}"]).sum()) for k in SHAPES) / raw
    lines.append(f"total norm {float(vals['total_norm']):.6f} (clip_grad_norm_ returns it): every gradient x {coef:.8f}")
    return lines


# phase: other
EXAMPLE = ValuesExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_data,
    values=values,
    value_lines=value_lines,
    default_init=DEFAULT_INIT,
)
