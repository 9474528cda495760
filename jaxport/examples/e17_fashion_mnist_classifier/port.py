"""E17 fashion_mnist_classifier — seed 002, Part 2 (initialisation), Part 3 (losses) and Part 4 (Fashion-MNIST).

Part 4 defines ``Classifier`` (``fc1``–``fc4``: 784→256→128→64→10, ReLU between, ``F.log_softmax``
on the output, the input flattened with ``x.view(x.shape[0], -1)``), trains it with
``nn.NLLLoss()`` and ``optim.Adam(model.parameters())`` (torch's defaults: lr 1e-3, betas
(0.9, 0.999), eps 1e-8) for ``epochs = 5`` over ``trainloader`` (batches of 64, shuffled each epoch,
the last batch partial), and prints ``Training loss: {running_loss/len(trainloader)}`` after each
epoch. Part 2 sets a layer's initial values with ``bias.data.fill_(0)`` and
``weight.data.normal_(std=0.01)``: ``DEFAULT_INIT`` is that, for every layer, drawn once in NumPy
from ``default_rng(0)`` (state_dict order) and given to both frameworks; ``--seed S`` draws the same
distribution from ``default_rng(S)`` (standard normals, the other examples' draw, would put the logits
near 3e4 and the loss near 8000: a run so ill-conditioned that two float32 roundings part ways, though
each stays as close to float64 as torch's own, which the float64_drift regime shows). Also here, as functions beside the training loop: the
``Sequential`` variant (784→384→128→10), ``CrossEntropyLoss`` = ``LogSoftmax`` + ``NLLLoss``,
class probabilities ``torch.exp(model(images))``, and accuracy.

The contrast: torch's epoch is a Python loop over a ``DataLoader`` that mutates the model, the
optimizer and ``running_loss``. Here the shuffle of every epoch is drawn up front
(``default_rng(seed).permutation`` once per epoch, :func:`draw_batches`) and passed in as data; the
whole run is one compiled ``lax.scan`` over batch updates (jaxport's training loop, one step = one
batch, printing between epochs), and torch's ``DataLoader`` replays the same order through a
sampler. A scan needs every step's batch to have one shape, so the partial last batch (``drop_last``
is False) is padded to 64 rows with a mask: the loss is the sum over the real rows divided by their
number, which is ``NLLLoss``'s mean over the partial batch (padded rows get no gradient). Adam is
``optim.adam`` (torch's arithmetic) with its buffers in the flat training state, and the seed's
``running_loss`` is a leaf of the carry too. Not in the seed: ``--set optimizer=adamw`` trains with
``torch.optim.AdamW`` instead (``optim.adamw``, decoupled weight decay; ``--set weight_decay=...``,
default torch's 0.01), the same buffers under the same names, so that the harness compares an AdamW run.

Data: ``data_dir`` (``--data-dir DIR``) reads the real Fashion-MNIST IDX files
(:mod:`jaxport.datasets.idx`: 60000 training images, 938 batches an epoch, 4690 steps for the
seed's 5 epochs). Without it, the offline default is scikit-learn's bundled digits resized to 28×28
(:mod:`jaxport.datasets.digits`: 1500 training images, 24 batches an epoch, 120 steps): real images
of 10 classes, nothing downloaded. Images are pixel / 255 (``ToTensor``); the seed shows no
``Normalize``, so none is applied.

Memory: ``jaxport compare`` records every step of the torch run (parameters, both Adam buffers and
the gradients: 4 × 242,762 numbers a step, 7.8 MB in float64). The 120 steps of the offline data
take under 1 GB; 4690 steps of Fashion-MNIST would take 36 GB. Cap a comparison on the real data
with ``--steps`` (``jaxport compare E17 --data-dir DIR --steps 200``); ``jaxport run`` records
nothing and trains the full 5 epochs.
"""

import dataclasses
import functools
import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxport import convert, optim
from jaxport.catalog import identity
from jaxport.data import epoch_batches, np_dtype
from jaxport.datasets import Dataset
from jaxport.errors import UsageError
from jaxport.spec import Fraction, Magnitude, NonNegative, Positive, TrainingExample

Params = Mapping[str, jax.Array]
OPTIMIZERS = ("adam", "adamw")  # Config.optimizer's choices: torch.optim.Adam (the seed's), torch.optim.AdamW


# phase: other
class EpochSteps(int):
    """A count that :class:`Config` derived from ``epochs`` and the data (not given by the user).

    ``dataclasses.replace(cfg, data_dir=...)`` carries the old field values into the new config, so
    a derived count must be told apart from an explicit ``--steps`` or ``--set print_every=N`` (a plain
    ``int``, kept): this one is derived again for the new data.
    """


def batches_per_epoch(data_dir: str | None, batch_size: int) -> int:
    """``len(trainloader)``: ``ceil(N / batch_size)`` (``drop_last=False``), N read from a header only."""
    from jaxport.datasets import digits, idx

    n = digits.TRAIN_SIZE if data_dir is None else idx.count(data_dir, "train")
    return math.ceil(n / batch_size)


# phase: setup
@dataclasses.dataclass(frozen=True)
class Config:
    steps: NonNegative = 0  # seed: epochs × len(trainloader), one step per batch; 0 (default): derived from epochs and the data
    lr: float = 1e-3  # seed: optim.Adam(model.parameters()), torch's default lr
    betas: tuple[Fraction, Fraction] = (0.9, 0.999)  # torch.optim.Adam's default betas
    eps: Magnitude = 1e-8  # torch.optim.Adam's default eps
    dtype: str = "float32"  # seed: torch's default float32 tensors
    print_every: NonNegative = 0  # seed: print(f"Training loss: ...") after each epoch; 0 (default): len(trainloader)
    epochs: Positive = 5  # seed: epochs = 5
    batch_size: Positive = 64  # seed: trainloader's batch_size=64, shuffle=True, drop_last=False (a partial last batch)
    seed: NonNegative = 0  # the shuffle: numpy.random.default_rng(seed).permutation(N) once per epoch (--seed sets it)
    data_dir: str | None = None  # --data-dir: the Fashion-MNIST IDX files; None: the offline digits (named in the output)
    # not in the seed: "adam" (the seed's optim.Adam) or "adamw" (torch.optim.AdamW: decoupled weight decay,
    # p *= 1 - lr*weight_decay before Adam's step); --set optimizer=adamw. Both keep exp_avg, exp_avg_sq, count
    optimizer: str = "adam"
    weight_decay: Magnitude = 0.01  # used by "adamw" only (torch.optim.AdamW's default); "adam" ignores it, as the seed has none

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise UsageError(f"E17: config field 'optimizer' is {self.optimizer!r}, expected one of "
                             + ", ".join(repr(o) for o in OPTIMIZERS))
        per_epoch = batches_per_epoch(self.data_dir, self.batch_size)
        if self.print_every == 0 or isinstance(self.print_every, EpochSteps):
            object.__setattr__(self, "print_every", EpochSteps(per_epoch))
        if self.steps == 0 or isinstance(self.steps, EpochSteps):
            object.__setattr__(self, "steps", EpochSteps(self.epochs * per_epoch))


CONFIG = Config()

# The seed's Classifier, in its order: (attribute, in_features, out_features).
LAYERS = (("fc1", 784, 256), ("fc2", 256, 128), ("fc3", 128, 64), ("fc4", 64, 10))
SHAPES = {f"{name}.{leaf}": shape for name, i, o in LAYERS for leaf, shape in (("weight", (o, i)), ("bias", (o,)))}
NAMES = tuple(SHAPES)
# The seed's nn.Sequential variant: Linear(784, 384), ReLU, Linear(384, 128), ReLU, Linear(128, 10), LogSoftmax.
SEQUENTIAL_SHAPES = {"0.weight": (384, 784), "0.bias": (384,), "2.weight": (128, 384), "2.bias": (128,),
                     "4.weight": (10, 128), "4.bias": (10,)}


# phase: other
def seed_init(seed: int = 0, shapes: Mapping[str, tuple[int, ...]] = SHAPES, std: float = 0.01) -> dict[str, np.ndarray]:
    """The seed's Part 2 init for every layer: ``bias.data.fill_(0)``, ``weight.data.normal_(std=0.01)``.

    float64, one ``normal`` call per weight in ``state_dict`` order from ``default_rng(seed)``;
    distribution-equal to torch's ``normal_``, not stream-equal.
    """
    rng = np.random.default_rng(seed)
    return {k: (rng.normal(0.0, std, s) if k.endswith("weight") else np.zeros(s)) for k, s in shapes.items()}


# phase: setup
DEFAULT_INIT = seed_init(0)


# phase: data
def load_dataset(data_dir: str | None, split: str = "train") -> Dataset:
    """The images: Fashion-MNIST from ``data_dir``, or the offline digits resized to 1×28×28."""
    from jaxport.datasets import digits, idx

    return digits.load(size=28, channels=1, split=split) if data_dir is None else idx.load(data_dir, split)


def draw_batches(seed: int, steps: int, n: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every step's batch as row indices ``(steps, batch_size)`` and a mask of the real rows.

    Each epoch is ``default_rng(seed).permutation(n)`` (the generator continuing from epoch to
    epoch) cut into ``ceil(n / batch_size)`` batches in order; the last one has ``n % batch_size``
    real rows (when nonzero), padded with index 0 and masked out. ``--steps`` cuts the same draw.
    """
    return epoch_batches(seed, steps, n, batch_size, drop_last=False)  # DataLoader(shuffle=True), drop_last=False


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """The training set (``images`` (N, 1, 28, 28) in ``cfg.dtype``, ``labels`` int64) and each step's
    batch (``idx``, ``mask``: (steps, 64), per step)."""
    ds = load_dataset(cfg.data_dir, "train")
    idx, mask = draw_batches(cfg.seed, cfg.steps, len(ds), cfg.batch_size)
    return {"images": ds.images.astype(np_dtype(cfg.dtype)), "labels": ds.labels, "idx": idx, "mask": mask}


# phase: model
class Classifier(nnx.Module):
    """The seed's Classifier in flax: the same attribute names, so its state maps to torch's keys."""

    def __init__(self, *, rngs: nnx.Rngs, dtype: jnp.dtype = jnp.float32):
        self.fc1 = convert.linear(784, 256, rngs=rngs, dtype=dtype)
        self.fc2 = convert.linear(256, 128, rngs=rngs, dtype=dtype)
        self.fc3 = convert.linear(128, 64, rngs=rngs, dtype=dtype)
        self.fc4 = convert.linear(64, 10, rngs=rngs, dtype=dtype)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape(x.shape[0], -1)  # make sure input tensor is flattened (seed: x.view(x.shape[0], -1))
        x = nnx.relu(self.fc1(x))
        x = nnx.relu(self.fc2(x))
        x = nnx.relu(self.fc3(x))
        return jax.nn.log_softmax(self.fc4(x), axis=1)  # F.log_softmax(self.fc4(x), dim=1)


# phase: other
def sequential(*, rngs: nnx.Rngs, dtype: jnp.dtype = jnp.float32) -> nnx.Sequential:
    """The seed's ``nn.Sequential`` variant; ``convert`` maps its layers to torch's keys ``0.*``, ``2.*``, ``4.*``."""
    return nnx.Sequential(
        convert.linear(784, 384, rngs=rngs, dtype=dtype), nnx.relu,
        convert.linear(384, 128, rngs=rngs, dtype=dtype), nnx.relu,
        convert.linear(128, 10, rngs=rngs, dtype=dtype), functools.partial(jax.nn.log_softmax, axis=1),
    )


# phase: setup
@functools.cache
def _template(kind: str, dtype: jnp.dtype) -> tuple[nnx.GraphDef, nnx.State]:
    """The abstract module (shapes only, nothing drawn) that :func:`model` fills."""
    make = Classifier if kind == "classifier" else sequential
    return nnx.split(nnx.eval_shape(lambda: make(rngs=nnx.Rngs(0), dtype=dtype)))


# phase: model
def model(params: Params) -> nnx.Module:
    """The Classifier (``fc1.*`` keys) or the Sequential variant (``0.*``) holding ``params``, torch's
    keys and layout; traceable, so gradients come out in torch's layout."""
    kind = "classifier" if "fc1.weight" in params else "sequential"
    graphdef, state = _template(kind, jnp.dtype(params["fc1.weight" if kind == "classifier" else "0.weight"].dtype))
    return nnx.merge(graphdef, convert.nnx_tree(state, params))


def predict(params: Params, images: jax.Array) -> jax.Array:
    """``model(images)``: log-probabilities (N, 10)."""
    return model(params)(images)


# phase: loss
def nll_loss(log_ps: jax.Array, labels: jax.Array, mask: jax.Array | None = None) -> jax.Array:
    """``nn.NLLLoss()``: the mean of ``-log_ps[i, labels[i]]`` over the rows (the ``mask``'s real rows only)."""
    nll = -jnp.take_along_axis(log_ps, labels[:, None].astype(jnp.int32), axis=1)[:, 0]
    if mask is None:
        return jnp.mean(nll)
    return jnp.sum(jnp.where(mask, nll, jnp.zeros_like(nll))) / jnp.sum(mask).astype(nll.dtype)


# phase: other
def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """``nn.CrossEntropyLoss()`` on class scores: ``LogSoftmax`` + ``NLLLoss`` in one (optax's integer-label form)."""
    return jnp.mean(optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels.astype(jnp.int32)))


def probabilities(log_ps: jax.Array) -> jax.Array:
    """``torch.exp(model(images))``: the class probabilities (rows sum to 1)."""
    return jnp.exp(log_ps)


def accuracy(log_ps: jax.Array, labels: jax.Array) -> jax.Array:
    """The fraction of rows whose most probable class is the label."""
    return jnp.mean((jnp.argmax(log_ps, axis=1) == labels).astype(log_ps.dtype))


# phase: loss
def loss_fn(params: Params, data: Mapping[str, jax.Array]) -> jax.Array:
    """``criterion(model(images), labels)`` on this step's batch (``data["idx"]``, ``data["mask"]``: one step's rows)."""
    images, labels = data["images"][data["idx"]], data["labels"][data["idx"]]
    return nll_loss(predict(params, images), labels, data["mask"])


# phase: gradients
# loss.backward(): the loss and its gradient for every torch-named parameter.
loss_and_grad = jax.value_and_grad(loss_fn)


# phase: update
def optimizer(cfg: Config) -> optax.GradientTransformationExtraArgs:
    if cfg.optimizer == "adamw":  # not in the seed: optim.AdamW(model.parameters(), weight_decay=cfg.weight_decay)
        return optim.adamw(cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay)
    return optim.adam(cfg.lr, betas=cfg.betas, eps=cfg.eps)  # optim.Adam(model.parameters())


# phase: loss
def running_loss(params: Params, cfg: Config) -> dict[str, np.ndarray]:
    """The seed's ``running_loss = 0``: a float64 leaf of the state, as Python's float (x64 is always on)."""
    return {"running_loss": np.zeros((), np.float64)}


# phase: update
def update(state: Mapping[str, jax.Array], grads: Params, data: Mapping[str, jax.Array], t: jax.Array, cfg: Config) -> dict:
    """``optimizer.step()``: Adam's (or AdamW's) update from ``grads``; the running loss is the loop's, not the optimizer's."""
    return {**state, **optim.update_flat(optimizer(cfg), state, grads)}


def step(state: Mapping[str, jax.Array], data: Mapping[str, jax.Array], t: jax.Array, cfg: Config) -> tuple[dict, dict]:
    """One batch of the seed's epoch: the loss and gradients on batch ``t``, :func:`update`, and
    ``running_loss += loss.item()`` (a float64 leaf, as Python's float; restarted with each epoch)."""
    loss, grads = loss_and_grad({k: state[k] for k in NAMES}, EXAMPLE.at_step(data, t))
    per_epoch = math.ceil(data["images"].shape[0] / cfg.batch_size)  # len(trainloader), static
    previous = state["running_loss"]
    running = jnp.where(t % per_epoch == 0, jnp.zeros_like(previous), previous) + loss.astype(previous.dtype)
    # the epoch's mean loss so far: at its last batch the seed's running_loss / len(trainloader), printed then;
    # --set print_every=N prints it every N batches too
    aux = {"loss": loss, "epoch_loss": running / (t % per_epoch + 1).astype(running.dtype)}
    return {**update(state, grads, data, t, cfg), "running_loss": running}, aux


# phase: other
def header_lines(cfg: Config) -> list[str]:
    """Which data a run uses (the offline default names itself), before its first epoch line."""
    ds = load_dataset(cfg.data_dir, "train")
    per_epoch = batches_per_epoch(cfg.data_dir, cfg.batch_size)
    return [f"Data: {ds.name}: {len(ds)} training images, {per_epoch} batches of {cfg.batch_size} an epoch"]


# phase: report
def report_line(t: int, aux: Mapping[str, np.ndarray]) -> str:
    return f"Training loss: {float(aux['epoch_loss'])}"  # seed: print(f"Training loss: {running_loss/len(trainloader)}")


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
    header_lines=header_lines,
    optimizer=optimizer,
    update=update,
    step=step,  # the update, and the seed's running loss printed after each epoch
    extra_state=running_loss,
    default_init=DEFAULT_INIT,
    draw=seed_init,
    per_step=("idx", "mask"),
    batch_axes={"idx": 1, "mask": 1},  # a data-parallel run splits each batch's 64 rows
)
