"""E28 dummy_dataloader_training — seed 004, "Create a Dummy Dataloader" and its training loop.

The seed makes a dataset ``X`` (100, 4), ``y`` (100, 1) with ``torch.randn``, splits it into a list
of batches with its own rule (``create_dummy_dataloader``: ``len // 4`` batches of 4; its ``else``
branch only fires on an exact fit, so a remainder is dropped), and trains ``PyTorchLinearRegression(4, 1)`` for 10 epochs with
``torch.optim.SGD(lr=0.01)`` and ``mse_loss``, calling ``shuffle(dataloader)`` (Python's
``random.shuffle``, in place) at the start of every epoch and printing the last batch's loss after each.

The contrast: the shuffle is *data*. Python's ``shuffle`` mutates a list from a hidden global
generator; here the batch order of every step is drawn up front (:func:`draw_orders`) and passed
in, so the whole run is one pure, compiled ``lax.scan`` (jaxport's training loop: one step = one
batch update, 25 steps an epoch, 250 in all) and torch replays exactly the same order. The draw is
the seed's own: ``random.Random(seed).shuffle`` of the batch indices, once per epoch, in place, so
with ``random.seed(S)`` the seed's unchanged ``train`` visits the batches in this order (a test
checks it). (``random.shuffle`` draws depend only on the list's length, so shuffling indices
replays shuffling batches.) Nothing random happens inside the compiled run; ``--seed S`` sets the
shuffle (and the initial values, as for every example).

The model is a flax ``nnx`` module with the seed's attribute name, rebuilt inside the step from a
flat dict of torch-named, torch-layout parameters (``linear_layer.weight`` (1, 4),
``linear_layer.bias``); plain SGD keeps no state, so the training state is the parameters alone.
The data is ``default_rng(data_seed)`` standard normals (the seed's ``torch.randn``, unseeded).
``DEFAULT_INIT`` is ``torch.manual_seed(0); PyTorchLinearRegression(4, 1)``'s ``nn.Linear`` init,
written out below; ``--seed S`` draws standard normals instead.

No equivalent by design: ``shuffle(dataloader)`` drawing from Python's global RNG, and a loader
holding its position: JAX shuffles with a keyed permutation (the same key, the same order) and the
batches are indexed arrays that ``lax.scan`` walks; for parity the port replays torch's order.
"""

import dataclasses
import math
import random
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxport import optim
from jaxport.catalog import identity
from jaxport.data import np_dtype
from jaxport.examples._polynomial import scalar
from jaxport.examples.e27_pytorch_linear_regression.port import model  # the seed's one PyTorchLinearRegression
from jaxport.spec import NonNegative, Positive, TrainingExample

Params = Mapping[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Config:
    steps: Positive = 250  # seed: train(model, dataloader) with epochs=10, 25 batches each: one step per batch
    lr: float = 0.01  # seed: optimiser = torch.optim.SGD(model.parameters(), lr=0.01)
    dtype: str = "float32"  # seed: torch.randn's default dtype
    print_every: Positive = 25  # seed: print("Loss:", loss.item()); print() after each epoch (its last batch)
    seed: NonNegative = 0  # the shuffle: random.Random(seed).shuffle(order) once per epoch (the seed's `shuffle`)
    data_seed: NonNegative = 0  # X, y: numpy.random.default_rng(data_seed) standard normals (seed: torch.randn)
    num_examples: Positive = 100  # seed: create_dummy_dataset(100, 4)
    batch_size: Positive = 4  # seed: create_dummy_dataloader(X, y, batch_size=4)


CONFIG = Config()

NUM_FEATURES = 4  # seed: create_dummy_dataset(100, 4) for PyTorchLinearRegression(4, 1): the model's shape, not a setting
SHAPES = {"linear_layer.weight": (1, NUM_FEATURES), "linear_layer.bias": (1,)}

# torch.manual_seed(0); PyTorchLinearRegression(4, 1): its state_dict (float32 values, exact).
DEFAULT_INIT = {
    "linear_layer.weight": [[-0.003743410110473633, 0.26822179555892944, -0.4115225672721863, -0.3679695129394531]],
    "linear_layer.bias": [-0.19257718324661255],
}


# phase: other
def create_batches(data: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """The seed's batching rule: ``len(data) // batch_size`` batches of ``batch_size``.

    The ``else`` branch (``data[idx*batch_size:]``) is reached only when the last batch ends exactly at
    ``len(data)``, so every batch has ``batch_size`` rows and a remainder is silently dropped (10
    examples: two batches of 4, rows 8 and 9 unused). Equal batches are what lets a scan stack them.
    """
    return [
        data[idx * batch_size: (idx + 1) * batch_size] if (idx + 1) * batch_size < len(data)
        else data[idx * batch_size:]
        for idx in range(len(data) // batch_size)
    ]


# phase: data
def draw_orders(seed: int, steps: int, num_batches: int) -> np.ndarray:
    """The batch index of every step: the seed's in-place ``shuffle`` once per epoch, from ``random.Random(seed)``."""
    rng = random.Random(seed)
    order = list(range(num_batches))
    out: list[int] = []
    for _ in range(math.ceil(steps / num_batches)):
        rng.shuffle(order)  # seed: shuffle(dataloader), in place, at the start of each epoch
        out.extend(order)
    return np.array(out[:steps], dtype=np.int32)


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """The dataset (``X``, ``y``, for torch's ``create_dummy_dataloader``), the same batches stacked
    (``X_batches`` (25, 4, 4), ``y_batches`` (25, 4, 1)) and the batch order of each step (``order``)."""
    t = np_dtype(cfg.dtype)
    rng = np.random.default_rng(cfg.data_seed)
    X = rng.standard_normal((cfg.num_examples, NUM_FEATURES))  # seed: torch.randn((num_examples, num_features))
    y = rng.standard_normal((cfg.num_examples, 1))  # seed: torch.randn((num_examples, 1)), 1 label each
    bx, by = create_batches(X, cfg.batch_size), create_batches(y, cfg.batch_size)
    return {"X": X.astype(t), "y": y.astype(t), "X_batches": np.stack(bx).astype(t), "y_batches": np.stack(by).astype(t),
            "order": draw_orders(cfg.seed, cfg.steps, len(bx))}


# phase: loss
def loss_fn(params: Params, data: Mapping[str, jax.Array]) -> jax.Array:
    """``mse_loss(model(features), labels)`` on batch ``data["order"]`` (this step's element)."""
    features, labels = data["X_batches"][data["order"]], data["y_batches"][data["order"]]
    prediction = model(params)(features)
    return jnp.mean((prediction - labels) ** 2)  # torch.nn.functional.mse_loss


# phase: gradients
loss_and_grad = jax.value_and_grad(loss_fn)


# phase: update
def update(state: Params, grads: Params, data: Mapping[str, jax.Array], t: jax.Array, cfg: Config) -> dict[str, jax.Array]:
    """``optimiser.step()``: torch's plain SGD (``p - lr * grad``). It keeps no state (not even a step
    count, which torch's SGD does not record), so a fresh one each step is exact."""
    opt = optim.sgd(cfg.lr)
    updates, _ = opt.update(dict(grads), opt.init(dict(state)), dict(state))
    return dict(optax.apply_updates(dict(state), updates))


# phase: report
def report_line(t: int, aux: Mapping[str, np.ndarray]) -> str:
    return f"Loss: {scalar(aux['loss'])}\n"  # seed: print("Loss:", loss.item()); print()


def result_lines(state: Mapping[str, np.ndarray], loss: float) -> list[str]:
    return []  # the seed prints nothing after training


# phase: other
EXAMPLE = TrainingExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_data,
    loss_and_grad=loss_and_grad,
    report_line=report_line,
    result_lines=result_lines,
    update=update,  # the step is derived: the batch order[t], its gradients, this update
    default_init=DEFAULT_INIT,
    per_step=("order",),
    batch_axes={"X_batches": 1, "y_batches": 1},  # a data-parallel run splits each batch's rows
)
