"""jaxport.check (issue 14, item 2): a torch model, its nnx port, a loss and a torch optimizer are
checked in every regime without an example or a reference written by hand; a wrong port FAILs; what
check cannot do is one line."""

import jax
import numpy as np
import pytest
import torch
from flax import nnx

from jaxport import check, conv, convert
from jaxport.cli import main
from jaxport.errors import UsageError


def _torch_mlp(norm_eps=None):
    layers = [torch.nn.Linear(3, 8), torch.nn.Tanh()]
    if norm_eps is not None:
        layers.append(torch.nn.LayerNorm(8, eps=norm_eps))
    return torch.nn.Sequential(*layers, torch.nn.Linear(8, 1))


class MLP(nnx.Module):
    """nn.Sequential(Linear, Tanh[, LayerNorm], Linear): ``layers`` mirrors its indices (None where torch
    has a module without parameters)."""

    def __init__(self, rngs, norm_eps=None, act=nnx.tanh):
        norm = [nnx.LayerNorm(8, epsilon=norm_eps, rngs=rngs)] if norm_eps is not None else []
        self.layers = nnx.List([convert.linear(3, 8, rngs=rngs), None, *norm, convert.linear(8, 1, rngs=rngs)])
        self.act = act

    def __call__(self, x):
        h = self.act(self.layers[0](x))
        for layer in list(self.layers)[2:-1]:
            h = layer(h)
        return self.layers[-1](h)


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3))
    return {"x": x, "y": np.sin(x.sum(1, keepdims=True))}


@pytest.mark.parametrize("optimizer", [lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
                                       lambda p: torch.optim.AdamW(p, lr=1e-2)], ids=["sgd_momentum", "adamw"])
def test_a_correct_port_passes(optimizer):
    cs = check.check(torch_model=_torch_mlp, nnx_model=MLP, loss="mse", optimizer=optimizer, data=_data(), steps=80)
    assert [(c.dtype, c.passed) for c in cs] == [("float32", True), ("float64", True)], check.report(cs)


def test_a_cnn_on_batches_passes():
    """Conv2d + MaxPool2d + Linear on NCHW batches with integer labels, cross-entropy; the nnx side convolves in NHWC."""
    def torch_cnn():
        return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                   torch.nn.Linear(4 * 3 * 3, 3))

    class CNN(nnx.Module):
        def __init__(self, rngs):
            self.layers = nnx.List([convert.conv2d(1, 4, 3, rngs=rngs), None, None, None, convert.linear(36, 3, rngs=rngs)])

        def __call__(self, x):
            h = conv.max_pool(nnx.relu(self.layers[0](x.transpose(0, 2, 3, 1))), (2, 2))
            return self.layers[4](h.transpose(0, 3, 1, 2).reshape(x.shape[0], -1))  # flatten C, H, W as torch

    rng = np.random.default_rng(1)
    data = {"x": rng.standard_normal((30, 5, 1, 8, 8)), "y": rng.integers(0, 3, (30, 5))}
    cs = check.check(torch_model=torch_cnn, nnx_model=CNN, loss="cross_entropy", batches=True, data=data, steps=30,
                     optimizer=lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), dtype="float32")
    assert cs[0].passed, check.report(cs)


@pytest.mark.parametrize("bug", ["sigmoid_for_tanh", "layernorm_eps"])
def test_a_wrong_port_fails(bug):
    """flax's LayerNorm epsilon is 1e-6, torch's 1e-5: a port that keeps flax's default FAILs. (flax's
    LayerNorm promotes float64 statistics with float32, which the suite's strict promotion refuses: those
    runs use JAX's standard promotion, as a user's would.)"""
    if bug == "sigmoid_for_tanh":
        kw = dict(torch_model=_torch_mlp, nnx_model=lambda rngs: MLP(rngs, act=nnx.sigmoid))
    else:
        kw = dict(torch_model=lambda: _torch_mlp(norm_eps=1e-5), nnx_model=lambda rngs: MLP(rngs, norm_eps=1e-6))
    with jax.numpy_dtype_promotion("standard"):
        cs = check.check(loss="mse", optimizer=lambda p: torch.optim.SGD(p, lr=0.05), data=_data(), steps=20,
                         dtype="float64", **kw)
    assert not cs[0].passed
    assert not next(r for r in cs[0].regimes if r.name == "same_point").passed
    # the same LayerNorm with torch's eps passes
    if bug == "layernorm_eps":
        with jax.numpy_dtype_promotion("standard"):
            ok = check.check(torch_model=lambda: _torch_mlp(norm_eps=1e-5), nnx_model=lambda rngs: MLP(rngs, norm_eps=1e-5),
                             loss="mse", optimizer=lambda p: torch.optim.SGD(p, lr=0.05), data=_data(), steps=20,
                             dtype="float64")
        assert ok[0].passed, check.report(ok)


def test_a_port_file_can_use_check(capsys, tmp_path):
    f = tmp_path / "port.py"
    f.write_text(
        "import numpy as np, torch\n"
        "from flax import nnx\n"
        "from jaxport import check, convert\n"
        "class Lin(nnx.Module):\n"
        "    def __init__(self, rngs):\n"
        "        self.layers = nnx.List([convert.linear(2, 1, rngs=rngs)])\n"
        "    def __call__(self, x):\n"
        "        return self.layers[0](x)\n"
        "x = np.random.default_rng(0).standard_normal((16, 2))\n"
        "EXAMPLE = check.example(torch_model=lambda: torch.nn.Sequential(torch.nn.Linear(2, 1)), nnx_model=Lin,\n"
        "    loss='mse', optimizer=lambda p: torch.optim.RMSprop(p, lr=1e-2), data={'x': x, 'y': x[:, :1] * 2.0},\n"
        "    steps=30, name='lin', id='U02')\n")
    capsys.readouterr()
    assert main(["compare", str(f), "--dtype", "both"]) == 0
    out = capsys.readouterr().out
    assert "U02 lin  [float32, cpu]  JAX vs torch: PASS" in out and "U02 lin  [float64, cpu]  JAX vs torch: PASS" in out


@pytest.mark.parametrize("kwargs, needle", [
    (dict(loss="hinge"), "loss 'hinge': expected one of mse, cross_entropy"),
    (dict(data={"inputs": np.zeros((4, 3))}), "expected exactly 'x' (the input) and 'y'"),
    (dict(torch_model=lambda: torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 1))),
     "the torch model has buffers"),
    (dict(torch_model=lambda: torch.nn.Sequential(torch.nn.Linear(3, 1))), "which the torch model has not (torch's: 0.weight, 0.bias)"),
    (dict(optimizer=lambda p: torch.optim.Adagrad(p)), "Adagrad"),
])
def test_what_check_cannot_do_is_one_line(kwargs, needle):
    kw = {**dict(torch_model=_torch_mlp, nnx_model=MLP, loss="mse", optimizer=lambda p: torch.optim.SGD(p, lr=0.1),
                 data=_data(), steps=5), **kwargs}
    with pytest.raises(UsageError) as e:
        check.example(**kw)
    assert needle in str(e.value) and "\n" not in str(e.value), str(e.value)
