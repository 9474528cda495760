"""E20 finetune_freeze — seed 003, "PyTorch Blitz" (freezing parameters for finetuning).

The seed freezes a pretrained ResNet-18 and replaces its classifier::

    model = torchvision.models.resnet18(pretrained=True)
    # Freeze all the parameters in the network
    for param in model.parameters():
        param.requires_grad = False
    # replace last linear layer (the classifier) with new unfrozen classification layer
    model.fc = nn.Linear(512, 10)

The contrast: a parameter has no ``requires_grad`` flag in JAX; what is frozen is whatever you do
not differentiate. Here the trainable subtree (the new ``fc``) is the only argument of
``jax.value_and_grad``; the frozen backbone is a constant, handed in with the data, so it cannot
change and no gradient for it is ever computed (under ``jit`` the backward pass stops at ``fc``, as
torch's does). The other JAX form, a partitioned optimizer over the whole tree, must *zero* the
frozen leaves' updates: ``optax.multi_transform({"train": sgd, "frozen": optax.set_to_zero()}, labels)``.
``optax.masked(sgd, mask)`` alone does NOT freeze: it passes the frozen leaves' raw gradients
through as their updates (``parity_tests/test_e20_finetune_freeze.py`` shows both).

BatchNorm: ``requires_grad = False`` freezes parameters, not buffers. The seed's model is still in
train mode, so every forward normalises with the batch's statistics and *updates* each BatchNorm's
running mean and variance (and ``num_batches_tracked``), frozen or not. The port does the same:
the running statistics are part of the training state, updated by every step.

Settings the seed does not give (it stops at ``model.fc = ...``): the optimizer is the blitz's
training step's, ``SGD(model.parameters(), lr=1e-2, momentum=0.9)`` (the frozen parameters have no
gradient and torch's SGD skips them); the loss is ``nn.CrossEntropyLoss()`` on the 10 new labels;
5 steps on one batch of 4 ``rand`` images 3×64×64 with labels drawn in NumPy. The "pretrained"
backbone is torchvision's init distribution drawn in NumPy (``_resnet.torchvision_init``, no
weights can be downloaded here), loaded into both frameworks with its original 1000-class ``fc``,
which the replacement then discards; the new ``fc`` is ``nn.Linear(512, 10)``'s init drawn in NumPy.
"""

import dataclasses
import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxport import optim, params
from jaxport.catalog import identity
from jaxport.data import np_dtype
from jaxport.examples import _resnet
from jaxport.spec import Magnitude, NonNegative, Positive, TrainingExample

Params = Mapping[str, jax.Array]
NUM_CLASSES = 10  # seed: model.fc = nn.Linear(512, 10)
SHAPES = {"fc.weight": (NUM_CLASSES, 512), "fc.bias": (NUM_CLASSES,)}  # the only trainable parameters
PRETRAINED = "pretrained."  # data keys of the frozen model's state_dict (with its 1000-class fc)
FIELDS = ("running_mean", "running_var", "num_batches_tracked")  # BatchNorm's buffers


@dataclasses.dataclass(frozen=True)
class Config:
    steps: Positive = 5  # not in the seed: a few steps, enough to show what moves and what does not
    lr: float = 1e-2  # the blitz's optimizer: torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    momentum: Magnitude = 0.9
    dtype: str = "float32"  # torch's default dtype
    print_every: Positive = 1
    batch: Positive = 4  # images per step (one batch, every step)
    data_seed: NonNegative = 0  # images and labels: numpy.random.default_rng(data_seed)
    pretrained_seed: NonNegative = 0  # the stand-in for the pretrained weights: _resnet.torchvision_init(pretrained_seed)


CONFIG = Config()


DEFAULT_INIT = params.torch_init(SHAPES, 0)  # torch's default init distribution, drawn in NumPy


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """The batch (``rand`` images NCHW, integer labels in [0, 10)) and the frozen pretrained model."""
    rng = np.random.default_rng(cfg.data_seed)
    t = np_dtype(cfg.dtype)
    data = {"data": rng.random((cfg.batch, 3, 64, 64)).astype(t), "labels": rng.integers(0, NUM_CLASSES, cfg.batch)}
    return data | {PRETRAINED + k: v.astype(t) for k, v in _resnet.torchvision_init(cfg.pretrained_seed).items()}


# phase: other
def backbone(data: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
    """The frozen model's parameters, by their own keys (a constant: never differentiated)."""
    return {k[len(PRETRAINED):]: v for k, v in data.items() if k.startswith(PRETRAINED)}


def buffer_names() -> dict[str, str]:
    """State name (``running_mean.layer1.0.bn1``) → torch buffer key (``layer1.0.bn1.running_mean``)."""
    return {f"{key.rsplit('.', 1)[1]}.{key.rsplit('.', 1)[0]}": key for key in _resnet.buffer_shapes()}


# phase: update
def optimizer(cfg: Config) -> optax.GradientTransformationExtraArgs:
    """torch.optim.SGD(lr, momentum) (the first momentum buffer is the raw gradient)."""
    return optim.sgd(cfg.lr, momentum=cfg.momentum)


# phase: other
def batch_norm_buffers(params: Params, cfg: Config) -> dict[str, np.ndarray]:
    """A fresh model's BatchNorm buffers, in the state beside the fc and SGD's buffers (train mode updates them)."""
    buffers = _resnet.initial_buffers(np.asarray(params["fc.weight"]).dtype)
    return {name: buffers[key] for name, key in buffer_names().items()}


def buffers_of(state: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
    """The BatchNorm buffers in a state, by torch's keys."""
    return {key: state[name] for name, key in buffer_names().items()}


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    # nn.CrossEntropyLoss(): the mean over the batch of -log softmax at the label
    return optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


# phase: loss
def loss_with_buffers(params: Params, buffers: Params, data: Mapping[str, jax.Array]) -> tuple[jax.Array, dict]:
    """``criterion(model(data), labels)`` in train mode: the frozen backbone's features (batch
    statistics; running statistics updated, returned as the aux value), then the new ``fc``."""
    feats, new_buffers = _resnet.features(backbone(data), buffers, data["data"], train=True)
    logits = feats @ params["fc.weight"].T + params["fc.bias"][None]  # nn.Linear(512, 10)
    return cross_entropy(logits, data["labels"]), new_buffers


# phase: gradients
def loss_and_grad(params: Params, data: Mapping[str, jax.Array]) -> tuple[jax.Array, dict]:
    """The loss and the gradient of the trainable ``fc`` only: the functional ``requires_grad=False``."""
    dtype = params["fc.weight"].dtype
    buffers = jax.tree.map(jnp.asarray, _resnet.initial_buffers(dtype))  # train mode: the output ignores them
    (loss, _), grads = jax.value_and_grad(loss_with_buffers, has_aux=True)(params, buffers, data)
    return loss, grads


# phase: update
def step(state: Mapping[str, jax.Array], data: Mapping[str, jax.Array], t: jax.Array, cfg: Config) -> tuple[dict, dict]:
    """``optimizer.zero_grad(); loss.backward(); optimizer.step()`` plus BatchNorm's buffer updates, pure."""
    (loss, new_buffers), grads = jax.value_and_grad(loss_with_buffers, has_aux=True)(EXAMPLE.params_in(state), buffers_of(state), data)
    new = EXAMPLE.apply(state, grads, data, t, cfg)  # the optimizer's: the fc, its count and momentum buffer
    new |= {name: new_buffers[key] for name, key in buffer_names().items()}  # frozen, yet updated in train mode
    return new, {"loss": loss}


# phase: report
def report_line(t: int, aux: Mapping[str, np.ndarray]) -> str:
    return f"step {t} loss {float(aux['loss'])}"


def result_lines(state: Mapping[str, np.ndarray], loss: float) -> list[str]:
    return [f"fc.weight[0, :3] after training: {np.asarray(state['fc.weight'])[0, :3]}",
            f"bn1.running_mean[:3] (frozen, still updated in train mode): {np.asarray(state['running_mean.bn1'])[:3]}",
            f"bn1.num_batches_tracked: {int(state['num_batches_tracked.bn1'])}"]


# phase: other
EXAMPLE = TrainingExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_data,
    loss_and_grad=loss_and_grad,
    step=step,
    report_line=report_line,
    result_lines=result_lines,
    optimizer=optimizer,
    extra_state=batch_norm_buffers,  # a forward in train mode moves them: no update alone, the whole step is checked
    default_init=DEFAULT_INIT,
    draw=functools.partial(params.torch_init, SHAPES),  # --seed S: nn.Linear(512, 10)'s init from default_rng(S)
)
