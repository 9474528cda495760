"""E09 state_dict_io — seed 000, "PyTorch Pth Files".

The seed saves ``torch.save(model.state_dict(), "model.pth")`` and restores it with
``model.load_state_dict(torch.load("model.pth"))``. A ``.pth`` is a pickle, and unpickling can run
arbitrary code; jaxport reads one only through ``torch.load(weights_only=True)``, which refuses
anything but tensors and plain containers (:mod:`jaxport.checkpoint`). The contrast: a JAX model's
parameters are plain arrays under names, so a checkpoint is just ``{name: array}`` — the same dict
can go to a ``.pth`` torch loads with ``load_state_dict(strict=True)``, or to a neutral format
(``.safetensors``, ``.npz``) that holds raw arrays and no code at all.

:func:`values` writes the parameters of the seed's model (E05's ``Sequential(Linear(3, 1),
Flatten(0, 1))``) to each format, reads them back, checks the round trip is bit for bit, and runs
the flax model built from what was read; the torch reference does the seed's save and load.

No equivalent by design: ``torch.save``/``torch.load`` pickling arbitrary Python objects: JAX
parameters are plain arrays, so jaxport reads a ``.pth`` only through
``torch.load(weights_only=True)`` (a pickle that would run code is refused) and writes
``.safetensors``/``.npz`` too, which hold no code at all.
"""

import dataclasses
import tempfile
from collections.abc import Mapping
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxport import checkpoint
from jaxport.catalog import identity
from jaxport.examples.e05_polynomial_nn.port import DEFAULT_INIT, SHAPES, make_data, model_of, powers
from jaxport.spec import ValuesExample

FORMATS = (".pth", ".safetensors", ".npz")


@dataclasses.dataclass(frozen=True)
class Config:
    dtype: str = "float32"  # torch's default dtype


CONFIG = Config()


# phase: other
def round_trip(params: Mapping[str, np.ndarray], suffix: str, directory: str | Path) -> dict[str, np.ndarray]:
    """Write ``params`` as ``model{suffix}`` and read it back (``.pth``: ``weights_only=True``)."""
    path = Path(directory) / f"model{suffix}"
    checkpoint.save(params, path)
    return {k: np.asarray(v) for k, v in checkpoint.load(path, what="E09").items()}


# phase: report
def values(params: Mapping[str, jax.Array], data: Mapping[str, jax.Array], cfg: Config) -> dict[str, np.ndarray]:
    """For each format: whether the round trip is bit for bit (1.0), and the model's output from the file."""
    host = {k: np.asarray(v) for k, v in params.items()}
    xx = powers(jnp.asarray(data["x"]), jnp.asarray(data["p"]))
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in FORMATS:
            back = round_trip(host, suffix, tmp)
            same = set(back) == set(host) and all(back[k].dtype == host[k].dtype and back[k].tobytes() == host[k].tobytes() for k in host)
            out[f"{suffix[1:]}.bitwise"] = np.float64(same)
            out[f"{suffix[1:]}.output"] = np.asarray(model_of({k: jnp.asarray(v) for k, v in back.items()})(xx))
    return out


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    return [f"{fmt}: round trip bit for bit: {bool(vals[f'{fmt}.bitwise'])}, output[:3] = {np.asarray(vals[f'{fmt}.output'])[:3]}"
            for fmt in (s[1:] for s in FORMATS)]


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
