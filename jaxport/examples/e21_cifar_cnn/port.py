"""E21 cifar_cnn — seed 003, "torch.nn pkg": the seed's ``Net`` trained as a classifier, as the blitz does.

The seed defines ``Net`` (``Conv2d(3, 6, 5)``, ``MaxPool2d(2, 2)``, ``Conv2d(6, 16, 5)``, fc
400→120→84→10) and says the nn package trains it with a criterion and ``torch.optim``; the blitz
this section summarises ("Training a classifier") trains it on CIFAR-10: ``ToTensor()`` then
``Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))``, a ``DataLoader(batch_size=4, shuffle=True)``,
``nn.CrossEntropyLoss()``, ``optim.SGD(net.parameters(), lr=0.001, momentum=0.9)``, 2 epochs,
printing the running loss every 2000 mini-batches, then ``Finished Training``.

The contrast: layouts. torch holds images NCHW and conv weights OIHW; flax's ``nnx.Conv`` works in
NHWC with HWIO kernels, pads ``'SAME'`` by default (torch: none, ``'VALID'``) and ``nnx.max_pool``
strides 1 by default (torch: the window, 2). The parameters stay a flat dict under torch's
``state_dict`` keys in torch's layout; E22's flax ``Net`` (reused here, not copied) transposes the
input once, builds its kernels with ``convert.nnx_tree`` (OIHW → HWIO), and before ``fc1`` puts
the features back in C, H, W order, because ``torch.flatten(x, 1)`` flattens C, H, W and fc1's 400
weights per unit are ordered so: flattening NHWC's H, W, C instead gives another, wrong, fc1 output
(``parity_tests/test_e21_cifar_cnn.py`` shows both). Every step is one batch update inside one
compiled ``lax.scan``; the shuffle is data (E28's idea): each epoch's permutation is drawn up front
in NumPy (:func:`draw_orders`) and torch's ``DataLoader`` replays it through a sampler. The
blitz's ``running_loss += loss.item()`` is a leaf of the training state (``running_loss``),
carried through the scan like the parameters, and reset where the blitz resets it.

Data. With ``--data-dir`` (``data_dir``): CIFAR-10's binary version, the training split, read by
:mod:`jaxport.datasets.cifar10` (50000 images, 12500 steps an epoch: the blitz's 2 epochs are
``--steps 25000``; the default ``steps`` covers 200, so pass ``--steps``). Without it: the offline
default, scikit-learn's bundled digits resized to 3×32×32 (:mod:`jaxport.datasets.digits`), its
first 400 training images: 100 mini-batches of 4 an epoch, the blitz's 2 epochs = 200 steps. The
cap is the parity harness's cost: ``compare`` records every step's parameters, momentum buffers and
gradients (0.75 MB a step in float32, 1.5 MB in float64) and re-evaluates every step's gradients
with the parameters batched (the convolutions are :mod:`jaxport.conv`'s patches × matrix, E22's
``Net``; XLA's own CPU convolution was ~3× slower): 200 steps keep ``jaxport compare E21`` (both
dtypes) near a minute on 2 cores. Keep ``compare --data-dir`` to a few
hundred ``--steps`` for the same reason. Either dataset is normalised as the blitz does, once, in
NumPy float32; a float64 run gets those values widened. ``print_every`` is 50, not 2000: 2000
mini-batches is 16% of a CIFAR-10 epoch, and 50 divides both an epoch of the digits (100) and one
of CIFAR-10 (12500), so the blitz's per-epoch ``i % print_every`` and the loop's global step agree
(2 lines an epoch on the digits, 250 on CIFAR-10). A last, partial mini-batch (the blitz's
``drop_last=False``) is padded to the scan's fixed shape and masked out of the loss's mean.

Initial values: the blitz's ``net = Net()`` is torch's default init, unseeded; ``DEFAULT_INIT`` is
E22's (torch's distribution, U(±1/√fan_in), drawn once in NumPy), the same values for both
frameworks; ``--seed S`` draws the same distribution from ``default_rng(S)`` and also sets the shuffle.
"""

import dataclasses
import functools
import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxport import optim, params
from jaxport.catalog import identity
from jaxport.data import epoch_batches, np_dtype
from jaxport.datasets import Dataset, DatasetError, cifar10, digits
from jaxport.examples.e22_manual_sgd_update import port as e22
from jaxport.spec import Magnitude, NonNegative, Positive, TrainingExample

Params = Mapping[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Config:
    steps: Positive = 200  # blitz: for epoch in range(2), one step per mini-batch: 2 epochs of the digits' 100
    lr: float = 0.001  # blitz: optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    momentum: Magnitude = 0.9  # blitz: momentum=0.9
    dtype: str = "float32"  # blitz: ToTensor() gives float32, Net() is float32
    print_every: Positive = 50  # blitz: every 2000 mini-batches; 50 divides an epoch of the digits (100) and of CIFAR-10
    seed: NonNegative = 0  # the shuffle: numpy.random.default_rng(seed).permutation once per epoch (blitz: shuffle=True)
    batch_size: Positive = 4  # blitz: DataLoader(trainset, batch_size=4, ...)
    data_dir: str | None = None  # --data-dir: CIFAR-10's binary files (all 50000); None: the offline digits
    digits_images: Positive = 400  # the offline digits: the first 400 of the 1500 training images (the cap: see below)


CONFIG = Config()

SHAPES = e22.SHAPES  # conv1.weight (6, 3, 5, 5) ... fc3.bias (10,): torch's keys, order and layout
NAMES = tuple(SHAPES)
DEFAULT_INIT = e22.DEFAULT_INIT  # torch's init distribution drawn in NumPy (default_rng(0)), as E22


# phase: data
def load_dataset(cfg: Config) -> Dataset:
    """The training split: CIFAR-10 from ``cfg.data_dir``, else the offline digits as 3×32×32."""
    if cfg.data_dir is None:
        ds = digits.load(size=32, channels=3, split="train")
        n = cfg.digits_images
        return Dataset(f"{ds.name}, the first {n}", ds.images[:n], ds.labels[:n], ds.classes)
    return cifar10.load(cfg.data_dir, split="train")


# phase: other
def header_lines(cfg: Config) -> list[str]:
    """Which data the run trains on, printed before its first line (the same for either framework).

    A printing run is refused here when its lines would differ between the frameworks (see below);
    a comparison prints none and compares the state, which resets where the blitz resets either way.
    """
    ds = load_dataset(cfg)
    per_epoch = math.ceil(len(ds) / cfg.batch_size)
    if per_epoch and per_epoch % cfg.print_every and cfg.steps >= cfg.print_every:
        # the loop prints at global steps t % print_every, the blitz at mini-batch i of each epoch: the
        # same steps only when print_every divides an epoch (the digits' 100 and CIFAR-10's 12500 do)
        raise DatasetError(f"E21: {len(ds)} training images make {per_epoch} mini-batches of {cfg.batch_size} an "
                           f"epoch, expected a multiple of the print period {cfg.print_every} (or fewer than "
                           f"{cfg.print_every} --steps, which print nothing)")
    return [f"Data: {ds.name}: {len(ds)} training images, {per_epoch} mini-batches of {cfg.batch_size} an epoch"]


# phase: data
def draw_orders(seed: int, steps: int, num_images: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The image indices of every step and a mask of the real ones, both ``(steps, batch_size)``.

    The blitz's ``DataLoader(shuffle=True)`` permutes the whole set each epoch and keeps the last,
    partial mini-batch (``drop_last=False``); here ``numpy.random.default_rng(seed).permutation`` once
    per epoch (:func:`jaxport.data.epoch_batches`), the partial batch padded and masked out of the
    loss's mean, so a run of fewer steps is a prefix of a longer one.
    """
    if num_images == 0:
        raise DatasetError(f"E21: no training images: expected at least one mini-batch of {batch_size}")
    return epoch_batches(seed, steps, num_images, batch_size, drop_last=False)


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """The normalised training images (``images``, NCHW, torch's layout), their ``labels``, the
    images of every step (``order``, ``(steps, batch_size)``) and which of them are real (``mask``)."""
    ds = load_dataset(cfg)
    images = cifar10.normalize(ds.images).astype(np_dtype(cfg.dtype))  # Normalize((0.5,)*3, (0.5,)*3), in float32
    order, mask = draw_orders(cfg.seed, cfg.steps, len(ds), cfg.batch_size)
    return {"images": images, "labels": ds.labels.astype(np.int32), "order": order, "mask": mask}


# phase: loss
def criterion(outputs: jax.Array, labels: jax.Array, mask: jax.Array | None = None) -> jax.Array:
    """``nn.CrossEntropyLoss()``: log-softmax and negative log-likelihood, the mean over the batch's
    real rows (``mask``: a last, partial mini-batch is padded to the scan's fixed shape)."""
    ce = optax.losses.softmax_cross_entropy_with_integer_labels(outputs, labels)
    if mask is None:
        return ce.mean()
    return jnp.sum(jnp.where(mask, ce, jnp.zeros_like(ce))) / jnp.sum(mask).astype(ce.dtype)


def loss_fn(params: Params, data: Mapping[str, jax.Array]) -> jax.Array:
    """``criterion(net(inputs), labels)`` on the mini-batch ``data["order"]`` (this step's element)."""
    inputs, labels = data["images"][data["order"]], data["labels"][data["order"]]
    outputs = e22.net(params)(inputs)  # E22's flax Net: NCHW in, NHWC inside, C,H,W flattened before fc1
    return criterion(outputs, labels, data.get("mask"))


# phase: gradients
loss_and_grad = jax.value_and_grad(loss_fn)


# phase: update
def optimizer(cfg: Config) -> optax.GradientTransformationExtraArgs:
    # optim.SGD(net.parameters(), lr=0.001, momentum=0.9): torch's momentum (first buffer = g)
    return optim.sgd(cfg.lr, momentum=cfg.momentum)


# phase: loss
def running_loss(params: Params, cfg: Config) -> dict[str, np.ndarray]:
    """The blitz's ``running_loss = 0.0``: a float64 leaf, as Python's float (it sums ``loss.item()`` values)."""
    return {"running_loss": np.zeros((), np.float64)}


# phase: other
def _steps_per_epoch(data: Mapping[str, jax.Array], cfg: Config) -> int:
    return math.ceil(data["images"].shape[0] / cfg.batch_size)  # len(trainloader), static: the data's shape


# phase: update
def _update(state: Mapping[str, jax.Array], grads: Params, loss: jax.Array, t: jax.Array, per_epoch: int,
            cfg: Config) -> tuple[dict, jax.Array]:
    """``optimizer.step()``, then ``running_loss += loss.item()`` (zeroed after a print and at the epoch's end)."""
    new = optim.update_flat(optimizer(cfg), {k: v for k, v in state.items() if k != "running_loss"}, grads)
    running = state["running_loss"] + loss.astype(state["running_loss"].dtype)
    i = t % per_epoch  # the blitz's i in enumerate(trainloader)
    reset = (i % cfg.print_every == cfg.print_every - 1) | (i == per_epoch - 1)  # printed, or a new epoch next
    new["running_loss"] = jnp.where(reset, jnp.zeros_like(running), running)
    return new, running


def update(state: Mapping[str, jax.Array], grads: Params, data: Mapping[str, jax.Array], t: jax.Array, cfg: Config) -> dict:
    """The update from given gradients: parameters and buffers from ``grads`` alone; ``running_loss``
    needs this step's loss too, so the mini-batch is evaluated (forward only) at ``state``'s parameters."""
    loss = loss_fn(EXAMPLE.params_in(state), EXAMPLE.at_step(data, t))
    return _update(state, grads, loss, t, _steps_per_epoch(data, cfg), cfg)[0]


def step(state: Mapping[str, jax.Array], data: Mapping[str, jax.Array], t: jax.Array, cfg: Config) -> tuple[dict, dict]:
    """One mini-batch: its loss and gradients (nothing to zero: ``optimizer.zero_grad()`` has no counterpart), the update."""
    per_epoch = _steps_per_epoch(data, cfg)
    loss, grads = loss_and_grad(EXAMPLE.params_in(state), EXAMPLE.at_step(data, t))
    new, running = _update(state, grads, loss, t, per_epoch, cfg)
    return new, {"loss": loss, "epoch": t // per_epoch, "i": t % per_epoch, "running_loss": running / cfg.print_every}


# phase: report
def report_line(t: int, aux: Mapping[str, np.ndarray]) -> str:
    # blitz: print(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 2000:.3f}')
    return f"[{int(aux['epoch']) + 1}, {int(aux['i']) + 1:5d}] loss: {float(aux['running_loss']):.3f}"


def result_lines(state: Mapping[str, np.ndarray], loss: float) -> list[str]:
    return ["Finished Training"]  # blitz: print('Finished Training')


# phase: other
EXAMPLE = TrainingExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_data,
    loss_and_grad=loss_and_grad,
    step=step,  # the update and the blitz's running loss, printed every print_every mini-batches
    report_line=report_line,
    result_lines=result_lines,
    optimizer=optimizer,
    update=update,  # teacher forcing feeds it torch's gradients
    extra_state=running_loss,
    default_init=DEFAULT_INIT,
    draw=functools.partial(params.torch_init, SHAPES),  # --seed S: torch's init distribution from default_rng(S), as the default
    header_lines=header_lines,
    per_step=("order", "mask"),
    batch_axes={"order": 1, "mask": 1},  # a data-parallel run splits each mini-batch's images
)
