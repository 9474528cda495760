"""E12 linear_layers — seed 001, "Pytorch Modules".

The seed calls ``torch.nn.Linear(in_features=3, out_features=5)`` on ``x = [1., 2., 3.]``, then
stacks ``Linear(3, 5)`` and ``Linear(5, 4)`` (``hidden = lin1(x); output = lin2(hidden)``).
flax's ``nnx.Linear`` computes the same ``x W^T + b``, but keeps its kernel as ``(in, out)``, torch's
``weight`` ``(out, in)`` transposed. The contrast: a torch layer owns randomly initialised weights
that ``load_state_dict`` overwrites in place; here a layer is *built from values*: the parameters are
a flat dict under torch's ``state_dict`` keys (``lin.weight``, ``lin1.bias``, ...), and
:func:`layer` turns one layer's entries into an ``nnx.Linear`` (``convert.nnx_tree`` does the
transpose, ``nnx.merge`` builds the layer; no random init is ever drawn, ``nnx.eval_shape`` gives
only the structure). Everything is pure, so :func:`values` also runs under ``jax.jit``.

The seed prints its outputs, not its weights (torch drew them, unseeded). ``DEFAULT_INIT`` holds
fixed values generated once with ``torch.manual_seed(0)`` and the seed's three constructors in its
order (``lin``, ``lin1``, ``lin2``: torch's default U(±1/√fan_in) init), written out below; both
frameworks get them. ``--seed S`` draws standard normals instead.

No equivalent by design: ``nn.Linear``'s weight of shape (out, in), applied as ``x @ W.T``: flax's
kernel is (in, out), applied as ``x @ K``; converting a torch state dict transposes each weight
(``jaxport.convert``). Layers initialised from a hidden global RNG: flax layers take explicit
``rngs``, so an init is reproducible from its key alone.
"""

import dataclasses
import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxport import convert
from jaxport.catalog import identity
from jaxport.data import np_dtype
from jaxport.spec import ValuesExample

Params = Mapping[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Config:
    dtype: str = "float32"  # seed: torch.tensor([1., 2., 3.]) and nn.Linear are float32


CONFIG = Config()

# The seed's layers, in its order: (name, in_features, out_features).
LAYERS = (("lin", 3, 5), ("lin1", 3, 5), ("lin2", 5, 4))
SHAPES = {f"{name}.{leaf}": shape for name, i, o in LAYERS for leaf, shape in (("weight", (o, i)), ("bias", (o,)))}

# torch.manual_seed(0); Linear(3, 5); Linear(3, 5); Linear(5, 4): their state_dicts (float32 values, exact).
DEFAULT_INIT = {
    "lin.weight": [[-0.004322517663240433, 0.3097158372402191, -0.4751853346824646],
                   [-0.4248946011066437, -0.2223689705133438, 0.15482072532176971],
                   [-0.011439144611358643, 0.45777493715286255, -0.05123639851808548],
                   [0.1527741253376007, -0.1744827926158905, -0.11348707973957062],
                   [-0.55157071352005, -0.3823687434196472, -0.2379971146583557]],
    "lin.bias": [0.021387115120887756, 0.22824688255786896, 0.34642332792282104, -0.3914094567298889,
                 -0.25141456723213196],
    "lin1.weight": [[0.2097034901380539, 0.47942468523979187, -0.11881878226995468],
                    [0.43203797936439514, -0.09305925667285919, 0.06109179928898811],
                    [0.5227769017219543, -0.5355907082557678, -0.3634638786315918],
                    [-0.14616501331329346, -0.22505110502243042, 0.4988310933113098],
                    [-0.3742266893386841, -0.26577329635620117, -0.4033602476119995]],
    "lin1.bias": [-0.5407237410545349, -0.33702272176742554, 0.4962891638278961, 0.2576242983341217,
                  0.2798258066177368],
    "lin2.weight": [[0.023519661277532578, -0.229279026389122, 0.07566168904304504, -0.41756096482276917,
                     -0.3231414556503296],
                    [-0.23055201768875122, 0.2821640074253082, 0.26221081614494324, -0.19833700358867645,
                     -0.016136534512043],
                    [0.2860202491283417, 0.44458985328674316, 0.17749109864234924, 0.0604153610765934,
                     0.29985061287879944],
                    [-0.2633204162120819, 0.08333557844161987, -0.3467271625995636, -0.3099575340747833,
                     -0.23102319240570068]],
    "lin2.bias": [0.20235209167003632, 0.17985159158706665, -0.264908105134964, 0.1351063996553421],
}


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    # seed: x = torch.tensor([1., 2., 3.])
    return {"x": np.array([1.0, 2.0, 3.0], dtype=np_dtype(cfg.dtype))}


# phase: setup
@functools.cache
def _template(in_features: int, out_features: int, dtype: jnp.dtype) -> tuple[nnx.GraphDef, nnx.State]:
    """An abstract ``nnx.Linear`` (shapes only, nothing drawn): the structure :func:`layer` fills."""
    return nnx.split(nnx.eval_shape(lambda: convert.linear(in_features, out_features, rngs=nnx.Rngs(0), dtype=dtype)))


# phase: model
def layer(params: Params, name: str) -> nnx.Linear:
    """The seed's layer ``name`` as an ``nnx.Linear`` holding ``params[name + '.weight']`` (transposed) and ``.bias``.

    Traceable: works under ``jit`` and ``grad``.
    """
    _, in_features, out_features = next(spec for spec in LAYERS if spec[0] == name)
    own = {leaf: params[f"{name}.{leaf}"] for leaf in ("weight", "bias")}
    graphdef, state = _template(in_features, out_features, jnp.dtype(own["weight"].dtype))
    return nnx.merge(graphdef, convert.nnx_tree(state, own))


# phase: report
def values(params: Params, data: Mapping[str, jax.Array], cfg: Config) -> dict[str, jax.Array]:
    """The seed's two cells: ``lin(x)``, then ``hidden = lin1(x)`` and ``output = lin2(hidden)``."""
    x = data["x"]
    lin = layer(params, "lin")
    lin1, lin2 = layer(params, "lin1"), layer(params, "lin2")
    hidden = lin1(x)
    output = lin2(hidden)
    return {"lin(x)": lin(x), "hidden": hidden, "output": output}


def tensor_str(a: np.ndarray) -> str:
    """``a`` printed like torch prints a float tensor (4 decimals, aligned)."""
    body = np.array2string(np.asarray(a), precision=4, floatmode="fixed", separator=", ", prefix="tensor(")
    return f"tensor({body})"


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    # seed: the cells end in `lin(x)` and `output`, which the notebook prints as tensor([...], grad_fn=...)
    return [f"lin(x) = {tensor_str(vals['lin(x)'])}", f"output = {tensor_str(vals['output'])}"]


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
