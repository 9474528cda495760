"""A user's own port, outside the catalog: a 3-4-1 tanh MLP regression trained by torch's SGD with
momentum, written against jaxport's public contract only (``jaxport compare parity_tests/user_port/my_port.py``).
Its reference is ``my_reference.py`` beside it."""

import dataclasses
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxport import optim
from jaxport.data import np_dtype
from jaxport.spec import Positive, TrainingExample


@dataclasses.dataclass(frozen=True)
class Config:
    steps: Positive = 200
    lr: float = 0.05
    momentum: float = 0.9
    dtype: str = "float32"
    print_every: Positive = 50


SHAPES = {"0.weight": (4, 3), "0.bias": (4,), "2.weight": (1, 4), "2.bias": (1,)}  # nn.Sequential's keys


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 3))
    y = np.sin(x @ np.array([1.0, -0.5, 0.25]))[:, None]
    return {"x": x.astype(np_dtype(cfg.dtype)), "y": y.astype(np_dtype(cfg.dtype))}


def loss_fn(params: Mapping[str, jax.Array], data: Mapping[str, jax.Array]) -> jax.Array:
    h = jnp.tanh(data["x"] @ params["0.weight"].T + params["0.bias"][None])
    out = h @ params["2.weight"].T + params["2.bias"][None]
    return jnp.mean((out - data["y"]) ** 2)


EXAMPLE = TrainingExample(
    id="U01",
    name="my_mlp",
    reference="my_reference.py",
    config=Config(),
    param_shapes=SHAPES,
    make_data=make_data,
    loss_and_grad=jax.value_and_grad(loss_fn),
    optimizer=lambda cfg: optim.sgd(cfg.lr, momentum=cfg.momentum),
    report_line=lambda t, aux: f"{t} {float(aux['loss'])}",
    result_lines=lambda state, loss: [f"final loss {loss}"],
    draw=lambda seed: {k: np.random.default_rng(seed).uniform(-0.5, 0.5, s) for k, s in SHAPES.items()},
)
