"""The references' shared contract (jaxport.reference): the optimizer state a torch reference records
is derived from its optimizer's settings, under the JAX state's names; ``training_reference`` writes
the public ``train`` signature every caller uses."""

import inspect

import numpy as np
import pytest
import torch

from jaxport import optim
from jaxport.cli import main
from jaxport.errors import UsageError
from jaxport.examples.e01_polynomial_numpy import reference as e01_ref
from jaxport.examples.e13_mycoolnet import reference as e13_ref
from jaxport.examples.e20_finetune_freeze import reference as e20_ref
from jaxport.reference import example_label, optimizer_buffers, optimizer_state, run_context
from jaxport.spec import RefRun

# (torch optimizer, its settings, the buffers torch keeps, jaxport.optim's factory with the same settings)
OPTIMIZERS = [
    ("SGD", {"lr": 0.1}, (), lambda: optim.sgd(0.1)),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, ("momentum_buffer",), lambda: optim.sgd(0.1, momentum=0.9)),
    ("RMSprop", {"lr": 0.01}, ("square_avg",), lambda: optim.rmsprop(0.01)),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}, ("square_avg", "momentum_buffer"), lambda: optim.rmsprop(0.01, momentum=0.9)),
    ("RMSprop", {"lr": 0.01, "centered": True}, ("square_avg", "grad_avg"), lambda: optim.rmsprop(0.01, centered=True)),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}, ("square_avg", "momentum_buffer", "grad_avg"),
     lambda: optim.rmsprop(0.01, momentum=0.5, centered=True)),
    ("Adam", {"lr": 1e-3}, ("exp_avg", "exp_avg_sq"), lambda: optim.adam(1e-3)),
    ("Adam", {"lr": 1e-3, "amsgrad": True}, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), lambda: optim.adam(1e-3, amsgrad=True)),
    ("AdamW", {"lr": 1e-3}, ("exp_avg", "exp_avg_sq"), lambda: optim.adamw(1e-3)),
    ("AdamW", {"lr": 1e-3, "amsgrad": True}, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), lambda: optim.adamw(1e-3, amsgrad=True)),
]


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Linear(3, 2).to(torch.float64)


@pytest.mark.parametrize("cls, settings, buffers, jax_tx", OPTIMIZERS,
                         ids=[f"{c}-{'-'.join(f'{k}={v}' for k, v in s.items() if k != 'lr') or 'plain'}" for c, s, _, _ in OPTIMIZERS])
def test_optimizer_state_derives_the_buffers_torch_keeps_under_the_jax_names(cls, settings, buffers, jax_tx):
    model = _model()
    opt = getattr(torch.optim, cls)(model.parameters(), **settings)
    assert optimizer_buffers(opt) == buffers
    counts = {k: 0 for k, _ in model.named_parameters()} if cls == "SGD" else None

    # before the first step: zeros where torch has created nothing yet, the JAX state's names
    before = optimizer_state(model, opt, counts=counts)
    params = {k: p.detach().numpy() for k, p in model.named_parameters()}
    assert set(before) == set(optim.init_flat(jax_tx(), params))
    for b in buffers:
        assert all(not before[f"{b}.{k}"].any() for k in params)

    # after one step: torch's own tensors, and nothing torch keeps is left out
    model(torch.ones(4, 3, dtype=torch.float64)).square().sum().backward()
    opt.step()
    after = optimizer_state(model, opt, counts=None if counts is None else {k: 1 for k in counts})
    for k, p in model.named_parameters():
        kept = {name for name, v in opt.state[p].items() if name != "step" and torch.is_tensor(v)}
        assert kept == set(buffers)
        for b in buffers:
            assert after[f"{b}.{k}"] is opt.state[p][b]
        assert int(after[f"count.{k}"]) == 1


def test_optimizer_state_takes_explicit_buffers_and_names_what_it_cannot_derive():
    model = _model()
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    assert set(optimizer_state(model, sgd, ("momentum_buffer",), counts={"weight": 0, "bias": 0})) >= {"momentum_buffer.weight"}

    class Lookahead:  # a wrapper, as E15's: no param_groups of its own
        def __init__(self, optimizer):
            self.optimizer = optimizer

    with pytest.raises(TypeError, match="Lookahead"):
        optimizer_state(model, Lookahead(torch.optim.Adam(model.parameters())))
    with pytest.raises(TypeError, match="Adagrad"):
        optimizer_buffers(torch.optim.Adagrad(model.parameters()))
    # the wrapped torch optimizer is derived (what E15's reference records)
    assert optimizer_buffers(Lookahead(torch.optim.Adam(model.parameters())).optimizer) == ("exp_avg", "exp_avg_sq")


def test_example_label():
    assert example_label("jaxport.examples.e13_mycoolnet.reference") == "E13 mycoolnet"
    assert example_label("jaxport.examples.e01_polynomial_numpy.reference") == "E01 polynomial_numpy"
    assert example_label("mypkg.e42_my_net.reference") == "E42 my_net"
    assert example_label("scratch") == "scratch"


def test_training_reference_writes_the_public_signature():
    public = ["params", "data", "cfg", "device", "record", "report"]
    for fn in (e01_ref.train, e13_ref.train, e20_ref.train, e20_ref.finetune):
        sig = inspect.signature(fn)
        assert list(sig.parameters) == public
        assert [sig.parameters[k].default for k in ("device", "record", "report")] == ["cpu", False, None]
        assert all(sig.parameters[k].kind is inspect.Parameter.KEYWORD_ONLY for k in ("device", "record", "report"))
        assert fn.__doc__ and fn.__module__.startswith("jaxport.examples.")
    assert inspect.signature(e13_ref.train).return_annotation is RefRun
    assert e13_ref.FRAMEWORK == "torch" and e01_ref.FRAMEWORK == "numpy"


USER_REFERENCE = """
import numpy as np
from jaxport.reference import RunContext, training_reference

FRAMEWORK = "torch"
SEEN = {}


@training_reference
def train(params, data, cfg, run: RunContext):
    SEEN["run"] = run
    run.rec.loss(np.float64(1.0))
    return run.rec.finish({"w": np.zeros(2)})
"""


def test_training_reference_builds_the_context_of_a_users_reference():
    import types

    mod = types.ModuleType("mypkg.e42_my_net.reference")
    exec(compile(USER_REFERENCE, "<user reference>", "exec"), mod.__dict__)
    cfg = types.SimpleNamespace(dtype="float64")
    lines = []
    out = mod.train({}, {}, cfg, record=True, report=lines.append)
    run = mod.SEEN["run"]
    assert isinstance(out, RefRun) and out.framework == "torch" and list(out.losses) == [1.0]
    assert run.rec.example == "E42 my_net" and run.record and run.report == lines.append
    assert run.dtype is torch.float64 and run.device == torch.device("cpu")
    assert mod.train.__name__ == "train" and mod.train.__module__ == "mypkg.e42_my_net.reference"

    no_framework = types.ModuleType("mypkg.e43_other.reference")
    with pytest.raises(TypeError, match="FRAMEWORK"):
        exec(compile(USER_REFERENCE.replace('FRAMEWORK = "torch"', ""), "<user reference>", "exec"), no_framework.__dict__)


def test_numpy_reference_gets_numpy_dtype_and_refuses_gpu():
    from jaxport.examples.e01_polynomial_numpy import port as e01

    cfg = e01.EXAMPLE.config
    with pytest.raises(UsageError, match="E01's reference is NumPy, which runs on the cpu only"):
        e01_ref.train(e01.EXAMPLE.init(), e01.EXAMPLE.make_data(cfg), cfg, device="gpu")
    run = run_context("E01 polynomial_numpy", "numpy", cfg)
    assert run.dtype is np.dtype(cfg.dtype).type and run.device == "cpu" and run.rec.framework == "numpy"


def test_compare_e08_without_momentum(capsys):
    """With momentum 0 the JAX state has no momentum buffers; the reference must record none either."""
    code = main(["compare", "E08", "--set", "momentum=0.0", "--steps", "300", "--dtype", "float64"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "1 passed, 0 failed" in out
