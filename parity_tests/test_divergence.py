"""jaxport.divergence: where a port parts from torch, layer by layer, then gradient by gradient.

A correct port (a small CNN, an MLP with LayerNorm) finds no divergence in float32 or float64, and
its trace covers every layer both sides have. Each planted bug is named where it is: a LayerNorm's
epsilon, a transposed Linear kernel (loaded wrongly, or used wrongly by the port's code), a conv's
padding (changing the shape, or not), a flatten in the wrong order (between layers: the enclosing
module's code), a mean/sum loss, a stop_gradient on one parameter or on part of the loss.
"""

import functools

import jax

jax.config.update("jax_enable_x64", True)  # before any array exists (conftest does this too)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from flax import nnx  # noqa: E402

from jaxport import conv  # noqa: E402
from jaxport import convert as C  # noqa: E402
from jaxport.divergence import Divergence, Report, first_divergence, locate  # noqa: E402
from jaxport.errors import UsageError  # noqa: E402

DTYPES = ("float32", "float64")


@pytest.fixture(autouse=True)
def _strict_promotion():
    """Silent dtype promotion or rank broadcasting in the function or the models fails loudly."""
    with jax.numpy_dtype_promotion("strict"), jax.numpy_rank_promotion("raise"):
        yield


def loaded(torch_model: torch.nn.Module, make) -> nnx.Module:
    """The nnx twin ``make(rngs)`` holding torch's values (``convert.nnx_tree``: names and layouts mapped),
    built abstract first (``nnx.eval_shape``: nothing drawn, nothing compiled for the init)."""
    tree = {k: jnp.asarray(v.detach().numpy()) for k, v in torch_model.state_dict().items()
            if not k.endswith("num_batches_tracked")}
    graphdef, state = nnx.split(nnx.eval_shape(lambda: make(nnx.Rngs(0))))
    return nnx.merge(graphdef, C.nnx_tree(state, tree))


def promotion(dtype: str):
    """Strict promotion, except for a float64 run of a model with ``nnx.LayerNorm``: flax asks there for
    ``promote_types(float64, float32)``, which strict promotion refuses (the port would, too)."""
    return jax.numpy_dtype_promotion("standard" if dtype == "float64" else "strict")


def randomized(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Every parameter drawn afresh (LayerNorm's ones and zeros too), so no layer is an identity."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=g, dtype=p.dtype) - 0.5)
    return module


# ---- a small CNN: Conv2d, ReLU, MaxPool2d, Conv2d, Flatten, Linear ---------------------------


class TorchCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                                            torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 4, 3, padding=1))
        self.flatten = torch.nn.Flatten()
        self.fc = torch.nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        return self.fc(self.flatten(self.features(x)))


class NnxCNN(nnx.Module):
    """NCHW in, NHWC inside, C·H·W flattened before fc as torch does. ``padding`` plants the last conv's
    padding (torch's is 1); ``flatten_nhwc`` plants a flatten in the wrong order (root's own code)."""

    def __init__(self, *, rngs: nnx.Rngs, dtype=jnp.float32, padding=1, flatten_nhwc=False):
        last = (C.conv2d(4, 4, 3, padding=padding, rngs=rngs, dtype=dtype) if isinstance(padding, int) else
                nnx.Conv(4, 4, (3, 3), padding=padding, param_dtype=dtype, rngs=rngs,
                         conv_general_dilated=conv.conv_general_dilated))
        pool = functools.partial(conv.max_pool, window_shape=(2, 2), strides=(2, 2))
        self.features = nnx.Sequential(C.conv2d(3, 4, 3, padding=1, rngs=rngs, dtype=dtype), nnx.relu, pool, last)
        self.fc = C.linear(4 * 4 * 4, 5, rngs=rngs, dtype=dtype)
        self.flatten_nhwc = flatten_nhwc

    def __call__(self, x):
        x = self.features(jnp.transpose(x, (0, 2, 3, 1)))
        if not self.flatten_nhwc:
            x = jnp.transpose(x, (0, 3, 1, 2))
        return self.fc(x.reshape(x.shape[0], -1))


def cnn(dtype="float32", **plant):  # the models are float32 either way: locate casts them to dtype
    torch.manual_seed(0)
    t = TorchCNN()
    n = loaded(t, lambda rngs: NnxCNN(rngs=rngs, **plant))
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)
    return t, n, x


@pytest.mark.parametrize("dtype", DTYPES)
def test_correct_cnn_has_no_divergence_and_the_trace_covers_every_layer(dtype):
    t, n, x = cnn(dtype)
    report = locate(t, n, x, loss="cross_entropy", targets=np.array([1, 3]), dtype=dtype)
    assert report.first is None, "\n".join(report.lines())
    assert first_divergence(t, n, x, dtype=dtype) is None
    outputs = {s.name: s for s in report.trace if s.kind == "output"}
    # every torch module is in the trace: compared where nnx has it, skipped (and said so) where not
    assert set(outputs) == {name for name, _ in t.named_modules()}
    for name in ("features.0", "features.3", "features", "fc", ""):
        assert outputs[name].status == "ok" and outputs[name].ratio <= 1.0 and outputs[name].scale > 0
    assert outputs["features.0"].layout == (0, 3, 1, 2)  # NHWC transposed to torch's NCHW
    assert outputs["fc"].layout is None
    for name in ("features.1", "features.2", "flatten"):  # nnx.relu, a pooling function, a reshape
        assert outputs[name].status == "skipped" and "no nnx module" in outputs[name].note
    grads = [s.name for s in report.trace if s.kind == "gradient"]
    assert grads == ["fc.bias", "fc.weight", "features.3.bias", "features.3.weight",
                     "features.0.bias", "features.0.weight"]  # backward order
    assert all(s.status == "ok" for s in report.trace if s.kind in ("gradient", "loss"))
    assert "no divergence" in report.lines()[0]
    assert report.as_dict()["passed"] is True


@pytest.mark.parametrize("dtype", DTYPES)
def test_wrong_padding_that_keeps_the_shape_names_that_conv(dtype):
    t, n, x = cnn(padding=((0, 2), (0, 2)))  # torch pads 1 on each side: same shape, shifted windows
    d = first_divergence(t, n, x, dtype=dtype)
    assert isinstance(d, Divergence)
    assert (d.name, d.module, d.kind) == ("features.3", "Conv2d", "output")
    assert d.ratio > 1 and d.max_rel > 1e-2 and d.bound_rel < 1e-4
    assert "parameters are equal" in d.note and "input matches" in d.note
    assert d.line().startswith("first divergence: features.3 (Conv2d) output, ")
    assert "relative, bound " in d.line()


def test_wrong_padding_that_changes_the_shape_names_that_conv():
    t, n, x = cnn(padding=0)  # 2x2 instead of 4x4: then fc cannot take the flattened features
    report = locate(t, n, x)
    d = report.first
    assert (d.name, d.kind) == ("features.3", "output")
    assert "shape [2, 2, 2, 4] in nnx, [2, 4, 4, 4] in torch" in d.line()
    assert report.nnx_error is not None
    fc = next(s for s in report.trace if s.name == "fc")
    assert fc.status == "skipped" and "not reached" in fc.note


def test_flatten_in_the_wrong_order_is_placed_in_the_enclosing_module():
    t, n, x = cnn(flatten_nhwc=True)
    d = first_divergence(t, n, x)
    assert (d.name, d.module, d.kind) == ("fc", "Linear", "output")
    assert "its input already departs" in d.note
    assert ("forward code of (model) (TorchCNN), between features's output and the call of fc (torch runs "
            "flatten (Flatten) there, which the port has no module for)") in d.note


# ---- an MLP with a LayerNorm ------------------------------------------------------------------


def torch_mlp():
    torch.manual_seed(0)
    return randomized(torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.LayerNorm(8), torch.nn.Tanh(),
                                          torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)), 0)


class TransposedLinear(nnx.Linear):
    """A port's own Linear that multiplies by its kernel the wrong way round (square: shapes still fit)."""

    def __call__(self, x):
        return x @ self.kernel[...].T + self.bias[...][None]


class FrozenKernelLinear(nnx.Linear):
    """A Linear whose kernel the port has (wrongly) wrapped in stop_gradient: forward unchanged."""

    def __call__(self, x):
        return x @ jax.lax.stop_gradient(self.kernel[...]) + self.bias[...][None]


def nnx_mlp(rngs, *, eps=1e-5, middle=None):
    mid = C.linear(8, 8, rngs=rngs) if middle is None else middle(8, 8, rngs=rngs)
    return nnx.Sequential(C.linear(6, 8, rngs=rngs), nnx.LayerNorm(8, epsilon=eps, rngs=rngs), nnx.tanh,
                          mid, nnx.relu, C.linear(8, 3, rngs=rngs))


def mlp(**plant):
    t = torch_mlp()
    n = loaded(t, lambda rngs: nnx_mlp(rngs, **plant))
    rng = np.random.default_rng(2)
    # small inputs: the LayerNorm's input variance is ~1e-2, where its epsilon shows
    x = (0.1 * rng.standard_normal((4, 6))).astype(np.float32)
    y = rng.standard_normal((4, 3)).astype(np.float32)
    return t, n, x, y


@pytest.mark.parametrize("dtype", DTYPES)
def test_correct_mlp_has_no_divergence(dtype):
    t, n, x, y = mlp()
    with promotion(dtype):
        report = locate(t, n, x, loss="mse", targets=y, dtype=dtype)
    assert report.first is None, "\n".join(report.lines())
    compared = [s.name for s in report.trace if s.kind == "output" and s.status == "ok"]
    assert compared == ["0", "1", "3", "5", ""]  # forward order; the activations are functions in nnx


@pytest.mark.parametrize("dtype", DTYPES)
def test_layernorm_epsilon_names_the_layernorm(dtype):
    t, n, x, y = mlp(eps=1e-6)  # nnx.LayerNorm's default epsilon; torch's is 1e-5
    with promotion(dtype):
        report = locate(t, n, x, loss="mse", targets=y, dtype=dtype)
    d = report.first
    assert (d.name, d.module, d.kind) == ("1", "LayerNorm", "output"), "\n".join(report.lines())
    assert "input matches" in d.note and "parameters are equal" in d.note
    assert d.line().startswith("first divergence: 1 (LayerNorm) output, ")
    # the layers before it agree; those after it inherit the difference
    assert [s.status for s in d.trace if s.kind == "output" and s.name in ("0", "1", "3")] == ["ok", "departs", "departs"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_transposed_kernel_loaded_names_that_linear(dtype):
    t, n, x, _ = mlp()
    n.layers[3].kernel[...] = n.layers[3].kernel[...].T  # torch's (out, in) weight taken as flax's (in, out)
    with promotion(dtype):
        d = first_divergence(t, n, x, dtype=dtype)
    assert (d.name, d.module, d.kind) == ("3", "Linear", "output")
    assert "its parameters differ between the models: 3.weight" in d.note


def test_transposed_kernel_in_the_ports_code_names_that_linear():
    t, n, x, _ = mlp(middle=lambda i, o, rngs: TransposedLinear(i, o, rngs=rngs))
    d = first_divergence(t, n, x)
    assert (d.name, d.module, d.kind) == ("3", "Linear", "output")
    assert "parameters are equal" in d.note


# ---- the gradient path ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_stop_gradient_on_a_parameter_names_its_gradient(dtype):
    t, n, x, y = mlp(middle=lambda i, o, rngs: FrozenKernelLinear(i, o, rngs=rngs))
    with promotion(dtype):
        report = locate(t, n, x, loss="mse", targets=y, dtype=dtype)
    assert report.output is None and report.loss is None  # the forward pass and the loss agree
    d = report.first
    assert (d.name, d.module, d.kind) == ("3.weight", "Linear", "gradient"), "\n".join(report.lines())
    later = [s.name for s in report.trace if s.kind == "gradient"]
    assert later[:3] == ["5.bias", "5.weight", "3.bias"]  # checked before it, in backward order, and fine
    assert "every output, the loss and the gradients before it in backward order (5.bias, 5.weight, 3.bias) match" in d.note
    assert d.line().startswith("first divergence: 3.weight (Linear) gradient, 1 relative, bound ")  # all of it lost


def test_stop_gradient_on_part_of_the_loss_names_the_last_layers_gradient():
    t, n, x, y = mlp()
    half = (torch.nn.functional.mse_loss,
            lambda out, tgt: 0.5 * jnp.mean((out - tgt) ** 2) + 0.5 * jax.lax.stop_gradient(jnp.mean((out - tgt) ** 2)))
    report = locate(t, n, x, loss=half, targets=y)
    assert report.output is None and report.loss is None  # the same value ...
    assert (report.first.name, report.first.kind) == ("5.bias", "gradient")  # ... half its gradient


@pytest.mark.parametrize("dtype", DTYPES)
def test_sum_instead_of_mean_names_the_loss_then_the_gradients(dtype):
    t, n, x, y = mlp()
    with promotion(dtype):
        report = locate(t, n, x, loss=(torch.nn.functional.mse_loss, lambda out, tgt: jnp.sum((out - tgt) ** 2)),
                        targets=y, dtype=dtype)
    assert report.output is None
    assert report.first is report.loss and report.loss.kind == "loss"
    assert "the model's output matches: the loss functions differ" in report.loss.note
    assert report.gradient is not None and report.gradient.name == "5.bias"
    assert "the loss already departs" in report.gradient.note
    assert any(line.startswith("then, first gradient divergence: 5.bias (Linear) gradient") for line in report.lines())
    assert report.loss.line().startswith("first divergence: loss (mse_loss) value, ")


# ---- the API's edges ------------------------------------------------------------------------


def test_bad_arguments_are_usage_errors():
    t, n, x, _ = mlp()
    with pytest.raises(UsageError, match="dtype"):
        locate(t, n, x, dtype="float16")
    with pytest.raises(UsageError, match="loss"):
        locate(t, n, x, loss="hinge")
    with pytest.raises(UsageError, match="needs targets"):
        locate(t, n, x, loss="mse")
    with pytest.raises(UsageError, match="torch.nn.Module"):
        locate(n, n, x)


def test_models_are_left_as_they_were_and_the_report_serialises():
    t, n, x, y = mlp(eps=1e-6)
    before_t = {k: v.clone() for k, v in t.state_dict().items()}
    before_n = jax.tree.map(np.array, nnx.state(n))
    report = locate(t, n, x, loss="mse", targets=y)
    assert all(torch.equal(before_t[k], v) for k, v in t.state_dict().items())
    jax.tree.map(np.testing.assert_array_equal, before_n, jax.tree.map(np.array, nnx.state(n)))
    assert type(n.layers[1]) is nnx.LayerNorm  # its class given back
    assert isinstance(report, Report)
    import json

    d = json.loads(json.dumps(report.as_dict(), default=str))
    assert d["first"]["name"] == "1" and d["first"]["line"] == report.first.line()
    assert len(d["trace"]) == len(report.trace)


# ---- a module called twice, a BatchNorm in training mode, NHWC inputs -------------------------


class TorchShared(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv0 = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.conv = torch.nn.Conv2d(4, 4, 3, padding=1)  # called twice
        self.head = torch.nn.Linear(4, 2)

    def forward(self, x):
        x = self.conv(torch.relu(self.conv(torch.relu(self.bn(self.conv0(x))))))
        return self.head(x.mean((2, 3)))


class NnxShared(nnx.Module):
    """Takes NHWC (``to_nnx`` transposes torch's batch)."""

    def __init__(self, *, rngs):
        self.conv0 = C.conv2d(3, 4, 3, padding=1, rngs=rngs)
        self.bn = C.batch_norm2d(4, rngs=rngs)
        self.conv = C.conv2d(4, 4, 3, padding=1, rngs=rngs)
        self.head = C.linear(4, 2, rngs=rngs)

    def __call__(self, x):
        x = self.conv(nnx.relu(self.conv(nnx.relu(self.bn(self.conv0(x))))))
        return self.head(x.mean((1, 2)))


def test_a_module_called_twice_a_training_batchnorm_and_nhwc_inputs():
    torch.manual_seed(0)
    t = TorchShared()  # training mode: batch statistics on both sides
    n = loaded(t, lambda rngs: NnxShared(rngs=rngs))
    x = np.random.default_rng(3).standard_normal((2, 3, 6, 6)).astype(np.float32)
    report = locate(t, n, x, loss="mse", targets=np.zeros((2, 2), np.float32),
                    to_nnx=lambda x: jnp.transpose(x, (0, 2, 3, 1)))
    assert report.first is None, "\n".join(report.lines())
    calls = [(s.name, s.call) for s in report.trace if s.kind == "output" and s.status == "ok"]
    assert calls == [("conv0", 0), ("bn", 0), ("conv", 0), ("conv", 1), ("head", 0), ("", 0)]
    assert all(s.input_ratio is not None and s.input_ratio <= 1 for s in report.trace if s.kind == "output")
    assert {s.name for s in report.trace if s.kind == "gradient"} == {k for k, _ in t.named_parameters()}
    assert t.bn.num_batches_tracked.item() == 0  # the caller's model untouched (a copy ran)
