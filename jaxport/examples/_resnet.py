"""torchvision's ``resnet18`` in flax nnx, for E19 (the blitz's training step) and E20 (freezing).

Seed 003, "PyTorch Blitz": ``model = torchvision.models.resnet18(pretrained=True)``. torchvision is
not a dependency and its pretrained weights cannot be downloaded here, so this is the architecture
written out (``_resnet_torch.py`` is the same in torch) and its weights are torchvision's *init
distribution* drawn once in NumPy (:func:`torchvision_init`), handed to both frameworks.

The architecture, exactly torchvision's: ``conv1`` 7×7 stride 2 pad 3 (no bias), ``bn1``, ReLU,
max-pool 3×3 stride 2 pad 1, ``layer1``…``layer4`` of two BasicBlocks each (3×3 convs, a
``downsample`` of 1×1 conv stride 2 + BatchNorm in the first block of layers 2–4), adaptive average
pool to 1×1, ``fc`` 512 → ``num_classes``. Attribute names are torchvision's, so the nnx state maps
key for key to its ``state_dict`` (``layer2.0.downsample.1.running_var``) through :mod:`jaxport.convert`.
Its convolutions are ``nnx.Conv`` layers convolving as image patches × matrix (:mod:`jaxport.conv`,
through ``convert.conv2d``): E19's step takes ~75 ms on this project's 2-core machine against
~420 ms with XLA's own CPU convolution, E20's 5 steps ~23 ms against ~310 ms; the max-pool is
:func:`jaxport.conv.max_pool`, ``nnx.max_pool`` with torch's gradient rule.

The contrast it teaches: torch's BatchNorm *mutates* its buffers as a side effect of ``forward``
in train mode; here :func:`forward` is pure and returns the new buffers next to the output, so a
gradient step carries them as ``has_aux`` values, never as something differentiated.

Why not ``nnx.BatchNorm``: it matches torch's normalisation, but it updates ``var`` with the
*biased* batch variance, while torch's ``running_var`` takes the *unbiased* one (× n/(n-1)), and
it has no ``num_batches_tracked``. :class:`BatchNorm2d` here is torch's: biased variance to
normalise, unbiased into the running average, ``running = (1 - momentum) running + momentum batch``
with torch's momentum 0.1 (flax's convention is the opposite: its momentum 0.9 weighs the old
average), ``eps`` 1e-5 inside the square root, and the same error as torch for one value per
channel in training (batch 1 with a 1×1 feature map: a 32×32 input reaches it at ``layer4``; the
seed's 64×64 input leaves ``layer4`` at 2×2, 4 values per channel).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxport import conv, convert

Params = Mapping[str, jax.Array]

LAYERS = ((64, 1), (128, 2), (256, 2), (512, 2))  # (channels, stride of the first block) of layer1..layer4
BLOCKS = 2  # resnet18: [2, 2, 2, 2] BasicBlocks
MOMENTUM = 0.1  # nn.BatchNorm2d's default
EPS = 1e-5  # nn.BatchNorm2d's default


# --------------------------------------------------------------------------------------------
# names and shapes, in torchvision's state_dict order
# --------------------------------------------------------------------------------------------


def _modules(num_classes: int) -> Iterator[tuple[str, str, tuple[int, ...]]]:
    """(prefix, kind, shape) of every conv ("conv", OIHW), batch norm ("bn", (C,)) and the fc, in order."""
    yield "conv1", "conv", (64, 3, 7, 7)
    yield "bn1", "bn", (64,)
    inplanes = 64
    for i, (planes, stride) in enumerate(LAYERS, start=1):
        for b in range(BLOCKS):
            s = stride if b == 0 else 1
            p = f"layer{i}.{b}"
            yield f"{p}.conv1", "conv", (planes, inplanes, 3, 3)
            yield f"{p}.bn1", "bn", (planes,)
            yield f"{p}.conv2", "conv", (planes, planes, 3, 3)
            yield f"{p}.bn2", "bn", (planes,)
            if b == 0 and (s != 1 or inplanes != planes):  # torchvision's condition for a downsample
                yield f"{p}.downsample.0", "conv", (planes, inplanes, 1, 1)
                yield f"{p}.downsample.1", "bn", (planes,)
            inplanes = planes
    yield "fc", "fc", (num_classes, 512)


def param_shapes(num_classes: int = 1000) -> dict[str, tuple[int, ...]]:
    """``named_parameters()``: key → torch shape, in torch's order."""
    out: dict[str, tuple[int, ...]] = {}
    for prefix, kind, shape in _modules(num_classes):
        if kind == "conv":
            out[f"{prefix}.weight"] = shape
        elif kind == "bn":
            out[f"{prefix}.weight"] = out[f"{prefix}.bias"] = shape
        else:
            out[f"{prefix}.weight"], out[f"{prefix}.bias"] = shape, shape[:1]
    return out


def buffer_shapes() -> dict[str, tuple[int, ...]]:
    """``named_buffers()``: ``running_mean``, ``running_var`` (C,) and ``num_batches_tracked`` () of each BatchNorm."""
    out: dict[str, tuple[int, ...]] = {}
    for prefix, kind, shape in _modules(1000):
        if kind == "bn":
            out |= {f"{prefix}.running_mean": shape, f"{prefix}.running_var": shape, f"{prefix}.num_batches_tracked": ()}
    return out


def initial_buffers(dtype: Any) -> dict[str, np.ndarray]:
    """A fresh torch model's buffers: running_mean 0, running_var 1, num_batches_tracked 0 (int64)."""
    out = {}
    for k, shape in buffer_shapes().items():
        if k.endswith("num_batches_tracked"):
            out[k] = np.zeros((), np.int64)
        else:
            out[k] = (np.zeros if k.endswith("running_mean") else np.ones)(shape, dtype)
    return out


@functools.cache
def _init(seed: int, num_classes: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for prefix, kind, shape in _modules(num_classes):
        if kind == "conv":  # nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            out[f"{prefix}.weight"] = rng.standard_normal(shape) * math.sqrt(2.0 / (shape[0] * shape[2] * shape[3]))
        elif kind == "bn":  # nn.init.constant_(m.weight, 1); nn.init.constant_(m.bias, 0)
            out[f"{prefix}.weight"], out[f"{prefix}.bias"] = np.ones(shape), np.zeros(shape)
        else:  # nn.Linear's own init (torchvision leaves fc alone): weight and bias U(±1/√fan_in)
            bound = 1.0 / math.sqrt(shape[1])
            out[f"{prefix}.weight"] = rng.uniform(-bound, bound, shape)
            out[f"{prefix}.bias"] = rng.uniform(-bound, bound, shape[:1])
    for v in out.values():
        v.flags.writeable = False  # cached: shared by every caller
    return out


def torchvision_init(seed: int = 0, num_classes: int = 1000) -> dict[str, np.ndarray]:
    """torchvision's resnet18 init distribution for every parameter, drawn in NumPy (float64).

    ``default_rng(seed)``, one draw per conv weight (kaiming normal, fan_out, ReLU gain:
    N(0, 2/(out·kh·kw))) and for ``fc`` (weight then bias, U(±1/√512)), in ``state_dict`` order;
    BatchNorm weight 1, bias 0. Cached (11.7M values): the arrays are read-only.
    """
    return dict(_init(seed, num_classes))


class LazyInit(Mapping):
    """A ``default_init`` mapping that draws :func:`torchvision_init` on first use, not at import
    (listing the catalog imports every example; 11.7M float64 values are 94 MB)."""

    def __init__(self, seed: int = 0, num_classes: int = 1000):
        self._args = (seed, num_classes)

    def _values(self) -> Mapping[str, np.ndarray]:
        return _init(*self._args)

    def __getitem__(self, key: str) -> np.ndarray:
        return self._values()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(param_shapes(self._args[1]))

    def __len__(self) -> int:
        return len(param_shapes(self._args[1]))

    def __contains__(self, key: object) -> bool:
        return key in param_shapes(self._args[1])


# --------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------


class BatchNorm2d(nnx.Module):
    """torch's ``nn.BatchNorm2d`` over the channel axis of NHWC input (see the module docstring).

    Leaf names follow :mod:`jaxport.convert`: ``scale`` → ``weight``, ``mean`` → ``running_mean``,
    ``var`` → ``running_var``; ``num_batches_tracked`` keeps its name.
    """

    def __init__(self, num_features: int, *, dtype: Any = jnp.float32, momentum: float = MOMENTUM, eps: float = EPS):
        self.scale = nnx.Param(jnp.ones((num_features,), dtype))
        self.bias = nnx.Param(jnp.zeros((num_features,), dtype))
        self.mean = nnx.BatchStat(jnp.zeros((num_features,), dtype))
        self.var = nnx.BatchStat(jnp.ones((num_features,), dtype))
        self.num_batches_tracked = nnx.BatchStat(jnp.zeros((), jnp.int64))
        self.momentum, self.eps = momentum, eps

    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        if train:
            n = x.size // x.shape[-1]  # values per channel: N * H * W
            if n <= 1:  # torch: F.batch_norm -> _verify_batch_size
                raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                                 f"{[x.shape[0], x.shape[-1], *x.shape[1:-1]]}")
            mean = jnp.mean(x, axis=(0, 1, 2))
            var = jnp.mean(jnp.square(x - mean[None, None, None]), axis=(0, 1, 2))  # biased, two-pass: normalises
            m = self.momentum
            # the running averages are not differentiated (torch updates them under no_grad)
            self.mean[...] = (1 - m) * self.mean[...] + m * jax.lax.stop_gradient(mean)
            self.var[...] = (1 - m) * self.var[...] + m * jax.lax.stop_gradient(var) * (n / (n - 1))  # unbiased
            self.num_batches_tracked[...] = self.num_batches_tracked[...] + 1
        else:
            mean, var = self.mean[...], self.var[...]
        c = (None, None, None)  # (C,) -> (1, 1, 1, C): explicit, the tests forbid rank promotion
        return (x - mean[c]) * (self.scale[...] * jax.lax.rsqrt(var + self.eps))[c] + self.bias[...][c]


class BasicBlock(nnx.Module):
    """torchvision's BasicBlock: conv3x3-bn-relu-conv3x3-bn, plus the (downsampled) input, relu."""

    def __init__(self, inplanes: int, planes: int, stride: int, *, rngs: nnx.Rngs, dtype: Any):
        self.conv1 = convert.conv2d(inplanes, planes, 3, stride=stride, padding=1, use_bias=False, rngs=rngs, dtype=dtype)
        self.bn1 = BatchNorm2d(planes, dtype=dtype)
        self.conv2 = convert.conv2d(planes, planes, 3, padding=1, use_bias=False, rngs=rngs, dtype=dtype)
        self.bn2 = BatchNorm2d(planes, dtype=dtype)
        if stride != 1 or inplanes != planes:  # nn.Sequential(conv1x1(stride), BatchNorm2d): keys downsample.0/.1
            self.downsample = nnx.List([
                convert.conv2d(inplanes, planes, 1, stride=stride, use_bias=False, rngs=rngs, dtype=dtype),
                BatchNorm2d(planes, dtype=dtype),
            ])
        else:
            self.downsample = None

    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        identity = x
        out = nnx.relu(self.bn1(self.conv1(x), train=train))
        out = self.bn2(self.conv2(out), train=train)
        if self.downsample is not None:
            identity = self.downsample[1](self.downsample[0](x), train=train)
        return nnx.relu(out + identity)


class ResNet18(nnx.Module):
    """torchvision.models.resnet18(num_classes) in flax nnx; takes torch's NCHW input."""

    def __init__(self, num_classes: int = 1000, *, rngs: nnx.Rngs, dtype: Any = jnp.float32):
        self.conv1 = convert.conv2d(3, 64, 7, stride=2, padding=3, use_bias=False, rngs=rngs, dtype=dtype)
        self.bn1 = BatchNorm2d(64, dtype=dtype)
        inplanes = 64
        for i, (planes, stride) in enumerate(LAYERS, start=1):
            blocks = []
            for b in range(BLOCKS):
                blocks.append(BasicBlock(inplanes, planes, stride if b == 0 else 1, rngs=rngs, dtype=dtype))
                inplanes = planes
            setattr(self, f"layer{i}", nnx.List(blocks))  # nn.Sequential of blocks: keys layer1.0.*, layer1.1.*
        self.fc = convert.linear(512, num_classes, rngs=rngs, dtype=dtype)

    def features(self, x: jax.Array, *, train: bool) -> jax.Array:
        """Everything before ``fc``: (N, 3, H, W) NCHW → (N, 512)."""
        x = jnp.transpose(x, (0, 2, 3, 1))  # NCHW -> NHWC
        x = nnx.relu(self.bn1(self.conv1(x), train=train))
        # nn.MaxPool2d(3, stride=2, padding=1): padded with -inf, as torch; jaxport.conv's max_pool is
        # nnx.max_pool with torch's gradient (a window's to its first maximum)
        x = conv.max_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            for block in layer:
                x = block(x, train=train)
        return jnp.mean(x, axis=(1, 2))  # AdaptiveAvgPool2d((1, 1)) + torch.flatten(x, 1)

    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        return self.fc(self.features(x, train=train))


@functools.cache
def _template(dtype: jnp.dtype, num_classes: int) -> tuple[nnx.GraphDef, nnx.State]:
    """The abstract ResNet18 (shapes only, nothing drawn) that :func:`model` fills with values."""
    return nnx.split(nnx.eval_shape(lambda: ResNet18(num_classes, rngs=nnx.Rngs(0), dtype=dtype)))


def model(params: Params, buffers: Params) -> ResNet18:
    """The flax ResNet18 holding ``params`` and ``buffers`` (torch's keys and layout); traceable."""
    graphdef, state = _template(jnp.dtype(params["conv1.weight"].dtype), params["fc.weight"].shape[0])
    return nnx.merge(graphdef, convert.nnx_tree(state, {**params, **buffers}))


def forward(params: Params, buffers: Params, x: jax.Array, *, train: bool) -> tuple[jax.Array, dict[str, jax.Array]]:
    """``model(x)`` in train mode (batch statistics; running stats updated) or eval mode (running
    stats): the output and the buffers after the call (unchanged in eval mode), torch-named. Pure."""
    m = model(params, buffers)
    out = m(x, train=train)
    new = convert.torch_tree(m)
    return out, {k: new[k] for k in buffers}


def features(params: Params, buffers: Params, x: jax.Array, *, train: bool) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Like :func:`forward`, stopping before ``fc`` (E20's frozen backbone): (N, 512) features and the buffers."""
    m = model(params, buffers)
    out = m.features(x, train=train)
    new = convert.torch_tree(m)
    return out, {k: new[k] for k in buffers}
