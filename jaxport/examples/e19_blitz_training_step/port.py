"""E19 blitz_training_step — seed 003, "PyTorch Blitz" (the simple training loop).

The seed's one training step of a ResNet-18::

    model = torchvision.models.resnet18(pretrained=True)
    data = torch.rand(1,3,64,64) # 64 x 64 img with 3 channels
    labels = torch.rand(1,1000)
    prediction = model(data) # Forward pass
    loss = (prediction - labels).sum()
    loss.backward() # backward pass (backprop)
    optimizer = torch.optim.SGD(model.parameters(),lr=1e-2,momentum=0.9)
    optimizer.step() # initiate gradient descent

The contrast: torch's ``forward`` in train mode mutates BatchNorm's running statistics as a side
effect and ``backward`` fills ``.grad`` fields; here one pure function returns the loss, the
gradients (a value shaped like the parameters) *and* the new BatchNorm buffers (``has_aux``: carried
next to the gradient, never differentiated), and the optimizer step is ``optax.apply_updates`` on a
new value. The parameters stay a flat dict under torchvision's ``state_dict`` keys in torch's layout
(OIHW); inside the loss :mod:`jaxport.examples._resnet` builds the flax ResNet-18 from them, so the
gradients come out in torch's layout, leaf for leaf comparable with ``param.grad``.

Not the seed's weights: ``pretrained=True`` needs torchvision and a download, neither available. The
model is ``_resnet``'s ResNet-18 (torchvision's architecture and keys), its weights torchvision's
init distribution (kaiming normal fan_out convs, BatchNorm 1/0, fc U(±1/√512)) drawn once in NumPy
from ``default_rng(0)`` (``DEFAULT_INIT``) and handed to both frameworks; the BatchNorm buffers are
a fresh model's (running mean 0, var 1). ``--seed S`` draws the same distribution from ``default_rng(S)``. ``data`` and
``labels`` are ``rand`` as in the seed, drawn in NumPy from ``data_seed``.

Besides the seed's values (output, loss, every gradient, the stepped parameters and SGD's momentum
buffers) the example returns the BatchNorm buffers after the train-mode forward (torch's momentum
0.1, *unbiased* variance into ``running_var``) and the eval-mode output of the stepped model
(``model.eval()``: running statistics instead of the batch's). With batch 1 and a 64×64 image
``layer4``'s maps are 2×2, so each BatchNorm still sees more than one value per channel (a 32×32
image would make it 1×1, where torch and :class:`_resnet.BatchNorm2d` both raise).
"""

import dataclasses
import functools
from collections.abc import Mapping

import jax
import numpy as np
import optax

from jaxport import optim
from jaxport.catalog import identity
from jaxport.data import np_dtype
from jaxport.examples import _resnet
from jaxport.spec import Magnitude, NonNegative, ValuesExample

Params = Mapping[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Config:
    lr: float = 1e-2  # seed: torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    momentum: Magnitude = 0.9  # seed: momentum=0.9
    dtype: str = "float32"  # torch's default dtype
    data_seed: NonNegative = 0  # data and labels: numpy.random.default_rng(data_seed).random, as torch.rand


CONFIG = Config()

SHAPES = _resnet.param_shapes(1000)  # model.named_parameters(): 62 leaves, 11,689,512 values
DEFAULT_INIT = _resnet.LazyInit(0, 1000)  # torchvision's init distribution, drawn on first use


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """seed: ``data = torch.rand(1,3,64,64)``, ``labels = torch.rand(1,1000)``: U[0, 1) in NumPy."""
    rng = np.random.default_rng(cfg.data_seed)
    t = np_dtype(cfg.dtype)
    return {"data": rng.random((1, 3, 64, 64)).astype(t), "labels": rng.random((1, 1000)).astype(t)}


# phase: update
def optimizer(cfg: Config) -> optax.GradientTransformationExtraArgs:
    """torch.optim.SGD(lr, momentum): the first momentum buffer is the raw gradient (optax.sgd's agrees, dampening 0)."""
    return optim.sgd(cfg.lr, momentum=cfg.momentum)


# phase: loss
def loss_fn(params: Params, buffers: Params, data: Mapping[str, jax.Array]) -> tuple[jax.Array, tuple[jax.Array, dict]]:
    """seed: ``prediction = model(data); loss = (prediction - labels).sum()``, in train mode.

    Returns the loss and, as auxiliary values, the prediction and the BatchNorm buffers after the forward.
    """
    prediction, new_buffers = _resnet.forward(params, buffers, data["data"], train=True)
    loss = (prediction - data["labels"]).sum()
    return loss, (prediction, new_buffers)


# phase: report
@functools.partial(jax.jit, static_argnums=2)  # ~20 s eagerly op by op on 2 cores, ~1 s compiled
def values(params: Params, data: Mapping[str, jax.Array], cfg: Config) -> dict[str, jax.Array]:
    """The seed's step: prediction, loss, every gradient, then one SGD-momentum step; plus the
    BatchNorm buffers the forward updated and the stepped model's eval-mode output."""
    dtype = params["conv1.weight"].dtype
    buffers = jax.tree.map(jax.numpy.asarray, _resnet.initial_buffers(dtype))  # a fresh model's
    # loss.backward(): the gradients are a returned value; the new buffers ride along, undifferentiated
    (loss, (prediction, buffers)), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, buffers, data)
    # optimizer = SGD(model.parameters(), lr=1e-2, momentum=0.9); optimizer.step()
    tx = optimizer(cfg)
    updates, opt_state = tx.update(dict(grads), tx.init(dict(params)), dict(params))
    stepped = optax.apply_updates(dict(params), updates)
    # model.eval(); model(data): running statistics instead of the batch's, nothing updated
    eval_prediction, _ = _resnet.forward(stepped, buffers, data["data"], train=False)
    return {
        "prediction": prediction,
        "loss": loss,
        **{f"grad.{k}": g for k, g in grads.items()},
        **{f"stepped.{k}": p for k, p in stepped.items()},
        **{f"momentum_buffer.{k}": b for k, b in opt_state.momentum_buffer.items()},
        **{f"buffer.{k}": b for k, b in buffers.items()},
        "eval_prediction": eval_prediction,
    }


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    grads = {k: vals[f"grad.{k}"] for k in SHAPES}
    lines = [f"loss = (prediction - labels).sum() = {float(vals['loss'])}"]
    for k in ("conv1.weight", "layer1.0.conv1.weight", "layer4.1.bn2.weight", "fc.weight", "fc.bias"):
        lines.append(f"{k:<22} max |grad| {float(np.abs(grads[k]).max()):.4e}")
    norm = float(np.sqrt(sum(float(np.sum(np.square(g.astype(np.float64)))) for g in grads.values())))
    lines.append(f"gradient norm over all {len(SHAPES)} parameters: {norm:.6e}")
    lines.append(f"bn1.running_mean[:3] after the forward: {np.asarray(vals['buffer.bn1.running_mean'])[:3]}")
    lines.append(f"eval-mode prediction[0, :3] after optimizer.step(): {np.asarray(vals['eval_prediction'])[0, :3]}")
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
    draw=_resnet.torchvision_init,  # --seed S: torchvision's init distribution from default_rng(S)
)
