"""jaxport.optim_state: a run switched between torch and JAX mid-way is the run either makes alone.

A small MLP (``Sequential(Linear(3, 4), Tanh, Linear(4, 2))``, MSE on fixed NumPy data) trains 100
steps. Forward: 50 torch steps, the parameters and ``optimizer.state_dict()`` converted
(:func:`~jaxport.optim_state.from_torch`), 50 JAX steps with the :mod:`jaxport.optim` twin
(:func:`~jaxport.optim_state.optimizer_from_torch`), against torch's own 100 steps. Reverse: 50 JAX
steps, :func:`~jaxport.optim_state.to_torch` into a fresh torch optimizer over the JAX parameters,
50 torch steps, against JAX's own 100 steps.

Which bounds, and why (both are the harness's, :func:`jaxport.harness.compare_trees` /
:func:`~jaxport.harness.compare_state` with :func:`jaxport.tolerances.tolerance`'s entries; none is
made up here):

* **teacher_forced** is the check of the conversion itself. At every step t of the second half, the
  state at t is converted, one step is taken from it with the same gradients in the other framework,
  and the two steps are compared as the harness's teacher-forced regime compares them: element by
  element to 16 eps of the terms each element is made of (``harness.update_terms``; float64's entry
  allows 1024x that for torch's float64 bias corrections), counts equal. The inputs are identical,
  so anything a conversion gets wrong (a buffer dropped or zeroed, Adam's step off by one, which
  moves its bias corrections by ~2% at t = 50, SGD restarting its momentum from the raw gradient)
  lands orders of magnitude outside it, where the free run's relative bound could absorb a small
  such error into the run's drift. One case is judged against the float64 truth instead, as the
  harness judges an update: centered RMSprop in float32, see ``TRUTH_JUDGED``.
* **free_running** is the claim as stated: after the switch each framework runs on its own
  gradients, and every loss of the second half, the final parameters (the table's
  ``free_running`` entry), each kind of optimizer buffer (its ``buffers`` entry, relative to that
  kind's size, plus 4x torch's own float32 drift from a float64 torch run, the envelope the harness
  adds in float32) and the counts are compared as the harness compares a free run. The envelope
  comes from plain torch runs, without any conversion, so a conversion error cannot widen it.
"""

import copy
import functools
import types

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

from jaxport import optim, optim_state
from jaxport.convert import StateDictError
from jaxport.errors import UsageError
from jaxport.harness import compare_state, compare_trees, update_terms, worst_of
from jaxport.tolerances import tolerance

NAMES = ("0.weight", "0.bias", "2.weight", "2.bias")  # Sequential(Linear(3, 4), Tanh, Linear(4, 2))
STEPS, SWITCH = 100, 50
TORCH_DTYPE = {"float32": torch.float32, "float64": torch.float64}
LABEL = "optim_state"

CASES = {
    "sgd_momentum": (torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    "sgd_nesterov": (torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    "sgd_dampening_wd": (torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-3)),
    "sgd_plain_maximize": (torch.optim.SGD, dict(lr=0.01, maximize=True)),
    "sgd_nesterov_foreach": (torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3,
                                                   foreach=True)),
    "rmsprop": (torch.optim.RMSprop, dict(lr=1e-2, alpha=0.9)),
    "rmsprop_momentum_centered": (torch.optim.RMSprop, dict(lr=1e-3, alpha=0.9, momentum=0.5, centered=True,
                                                            weight_decay=1e-3)),
    "rmsprop_momentum_foreach": (torch.optim.RMSprop, dict(lr=1e-3, alpha=0.9, momentum=0.5, weight_decay=1e-3,
                                                           foreach=True)),
    "adam": (torch.optim.Adam, dict(lr=1e-2)),
    "adam_foreach": (torch.optim.Adam, dict(lr=1e-2, weight_decay=1e-3, foreach=True)),
    "adamw": (torch.optim.AdamW, dict(lr=1e-2, weight_decay=0.01)),
    "adam_amsgrad": (torch.optim.Adam, dict(lr=1e-2, amsgrad=True, weight_decay=1e-3)),
    "adamw_amsgrad": (torch.optim.AdamW, dict(lr=1e-2, amsgrad=True)),
}
DTYPES = ("float32", "float64")


# ---------------------------------------------------------------- the model in both frameworks


def problem(dtype: str):
    """Initial parameters (torch's names and layout) and the data, fixed NumPy draws."""
    rng = np.random.default_rng(7)
    shapes = {"0.weight": (4, 3), "0.bias": (4,), "2.weight": (2, 4), "2.bias": (2,)}
    params = {n: rng.uniform(-0.6, 0.6, s).astype(dtype) for n, s in shapes.items()}
    x, y = rng.standard_normal((16, 3)).astype(dtype), rng.standard_normal((16, 2)).astype(dtype)
    return params, x, y


def torch_model(params, dtype: str) -> torch.nn.Module:
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).to(TORCH_DTYPE[dtype])
    model.load_state_dict({n: torch.from_numpy(np.array(v)) for n, v in params.items()})
    return model


def torch_backward(model, x, y) -> float:
    model.zero_grad(set_to_none=True)
    loss = torch.nn.functional.mse_loss(model(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    return loss.item()


def numpy_params(model) -> dict[str, np.ndarray]:
    return {n: p.detach().numpy().copy() for n, p in model.named_parameters()}


def jax_loss(params, x, y):
    h = jnp.tanh(x @ params["0.weight"].T + params["0.bias"][None, :])
    return jnp.mean((h @ params["2.weight"].T + params["2.bias"][None, :] - y) ** 2)


jax_value_and_grad = jax.jit(jax.value_and_grad(jax_loss))


def jax_stepper(tx):
    @jax.jit
    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return step


def torch_optimizer(case: str, model):
    cls, kwargs = CASES[case]
    return cls(model.parameters(), **kwargs)


def flat_state(params, opt_state) -> dict[str, np.ndarray]:
    return {**{k: np.asarray(v) for k, v in params.items()},
            **{k: np.asarray(v) for k, v in optim.state_to_flat(opt_state).items()}}


_TEMPLATES: dict = {}  # (tx, shapes and dtypes) -> jax.eval_shape(tx.init, params): traced once, not per step


def read_torch(sd, params, tx, t: int):
    """torch's state at step t as the JAX state (SGD keeps no step: counts says it is t)."""
    key = (tx, tuple((k, np.shape(v), str(np.asarray(v).dtype)) for k, v in params.items()))
    if key not in _TEMPLATES:
        _TEMPLATES[key] = jax.eval_shape(tx.init, params)
    return optim_state.from_torch(sd, NAMES, _TEMPLATES[key], counts={n: t for n in NAMES})


def stack(rows: list[dict]) -> dict[str, np.ndarray]:
    return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


# The one case the terms judge does not model: centered RMSprop divides by sqrt(square_avg - grad_avg²),
# which cancels (113x at step 87 of the float32 run: 3.66e-5 - 3.63e-5). square_avg's last bit, well
# within its own terms bound (torch rounds (1-alpha)·g·g before adding it; XLA's CPU fuses such a
# product into the addition, jaxport.optim's docstring notes, and here lands on the correctly rounded
# value), becomes ~56 eps of 1/avg and of the momentum buffer:
# torch's float32 buffer is 5.3e-5 from its own float64 step, JAX's 8e-7 (harness.update_terms counts
# a buffer's cancellation in its parameter's step, not this one). There it is judged as the harness
# judges arithmetic on identical inputs whose rounding a cancellation amplifies: JAX's distance from
# torch's float64 step from the same state, against torch's own (the table's float32 ``update``
# entry). float64 keeps the terms judge (its entry's 1024x covers such a cancellation).
TRUTH_JUDGED = {("rmsprop_momentum_centered", "float32")}


def teacher_forced(ours: list[dict], ref: list[dict], before: list[dict], steps: np.ndarray, dtype: str,
                   truth: list[dict] | None = None):
    """The harness's teacher-forced comparison: |Δ| <= ulps·eps·terms per element, counts equal; with
    ``truth`` (float64 steps of the reference from the same states), the truth judge instead."""
    ref_s = stack(ref)
    if truth is not None:
        return compare_trees(LABEL, "teacher_forced", stack(ours), ref_s, steps, tolerance(LABEL, dtype, "update", "cpu"),
                             truth=stack(truth))
    return compare_trees(LABEL, "teacher_forced", stack(ours), ref_s, steps,
                         tolerance(LABEL, dtype, "teacher_forced", "cpu"), terms=update_terms(stack(before), ref_s, list(NAMES)))


def free_running(ours: dict, ref: dict, ours_losses, ref_losses, dtype: str, envelope: dict | None):
    """The harness's free-run comparison: losses, final parameters, each buffer kind (with the envelope:
    torch's own float32 drift from its float64 run, as the harness adds in float32), counts equal."""
    tol = tolerance(LABEL, dtype, "free_running", "cpu")
    params_of = types.SimpleNamespace(params_in=lambda tree: {k: tree[k] for k in NAMES})  # compare_state's one need
    return worst_of("free_running", [
        compare_trees(LABEL, "free_running", {"loss": np.asarray(ours_losses)}, {"loss": np.asarray(ref_losses)},
                      np.arange(SWITCH, STEPS), tol),
        compare_state(LABEL, "free_running", params_of, {k: v[None] for k, v in ours.items()},
                      {k: v[None] for k, v in ref.items()}, np.array([STEPS]), tol,
                      envelope=None if envelope is None else {k: v[None] for k, v in envelope.items()},
                      buffer_tol=tolerance(LABEL, dtype, "buffers", "cpu")),
    ])


# ---------------------------------------------------------------- the runs, recorded


def torch_run(case: str, dtype: str, params0=None, data=None):
    """100 torch steps: each step's parameters, deep-copied state_dict and gradients; losses; the end."""
    params0, x, y = problem(dtype) if params0 is None else (params0, *data)
    model = torch_model(params0, dtype)
    opt = torch_optimizer(case, model)
    rows, losses = [], []
    for _ in range(STEPS):
        losses.append(torch_backward(model, x, y))
        rows.append(dict(params=numpy_params(model), sd=copy.deepcopy(opt.state_dict()),
                         grads={n: p.grad.numpy().copy() for n, p in model.named_parameters()}))
        opt.step()
    rows.append(dict(params=numpy_params(model), sd=copy.deepcopy(opt.state_dict())))
    return rows, losses, optim_state.optimizer_from_torch(opt)


def torch_flat(rows, tx, t: int) -> dict[str, np.ndarray]:
    return flat_state(rows[t]["params"], read_torch(rows[t]["sd"], rows[t]["params"], tx, t))


def torch_envelope(case: str, dtype: str):
    """float32: torch's own float32 drift over the 100 steps, |torch32 - torch64| from the same float32 values."""
    if dtype != "float32":
        return None
    rows32, _, tx32 = torch_run(case, "float32")
    p32, x32, y32 = problem("float32")
    rows64, _, tx64 = torch_run(case, "float64", {k: v.astype(np.float64) for k, v in p32.items()},
                                (x32.astype(np.float64), y32.astype(np.float64)))
    a, b = torch_flat(rows32, tx32, STEPS), torch_flat(rows64, tx64, STEPS)
    return {k: np.abs(a[k].astype(np.float64) - b[k]) for k in a}


def torch_step(case: str, dtype: str, params, sd, grads, t: int) -> dict[str, np.ndarray]:
    """One torch step in ``dtype`` from a state (cast to it): the flat state at t + 1."""
    model = torch_model({k: np.asarray(v).astype(dtype) for k, v in params.items()}, dtype)
    opt = torch_optimizer(case, model)
    opt.load_state_dict(copy.deepcopy(sd))  # casts the buffers to the parameters' dtype; keeps 'step' itself, stepped in place
    for n, p in model.named_parameters():
        p.grad = torch.from_numpy(np.asarray(grads[n]).astype(dtype))
    opt.step()
    return flat_state(numpy_params(model), read_torch(opt.state_dict(), numpy_params(model), twin(case, dtype), t + 1))


@functools.cache
def twin(case: str, dtype: str):
    """The case's jaxport.optim twin for ``dtype`` (one per case, so read_torch traces its template once)."""
    return optim_state.optimizer_from_torch(torch_optimizer(case, torch_model(problem(dtype)[0], dtype)))


def jax_run(case: str, dtype: str):
    """100 JAX steps with the twin of the case's torch optimizer: each step's params, state, gradients."""
    params, x, y = problem(dtype)
    tx = optim_state.optimizer_from_torch(torch_optimizer(case, torch_model(params, dtype)))
    step = jax_stepper(tx)
    params = {n: jnp.asarray(v) for n, v in params.items()}
    state = tx.init(params)
    rows, losses = [], []
    for _ in range(STEPS):
        loss, grads = jax_value_and_grad(params, x, y)
        losses.append(float(loss))
        rows.append(dict(params=params, state=state, grads=grads))
        params, state = step(params, state, grads)
    rows.append(dict(params=params, state=state))
    return rows, losses, tx


# ---------------------------------------------------------------- (a) torch → JAX


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_torch_then_jax(case, dtype):
    """50 torch steps, convert, 50 JAX steps == 100 torch steps."""
    rows, losses, tx = torch_run(case, dtype)
    step = jax_stepper(tx)
    _, x, y = problem(dtype)
    ts = range(SWITCH, STEPS)
    ours = [flat_state(*step(rows[t]["params"], read_torch(rows[t]["sd"], rows[t]["params"], tx, t), rows[t]["grads"]))
            for t in ts]
    truth = None
    if (case, dtype) in TRUTH_JUDGED:
        truth = [torch_step(case, "float64", rows[t]["params"], rows[t]["sd"], rows[t]["grads"], t) for t in ts]
    tf = teacher_forced(ours, [torch_flat(rows, tx, t + 1) for t in ts], [torch_flat(rows, tx, t) for t in ts],
                        np.arange(SWITCH + 1, STEPS + 1), dtype, truth)
    assert tf.passed, tf.message

    params = {n: jnp.asarray(v) for n, v in rows[SWITCH]["params"].items()}
    state = read_torch(rows[SWITCH]["sd"], rows[SWITCH]["params"], tx, SWITCH)
    jax_losses = []
    for _ in ts:
        loss, grads = jax_value_and_grad(params, x, y)
        jax_losses.append(float(loss))
        params, state = step(params, state, grads)
    fr = free_running(flat_state(params, state), torch_flat(rows, tx, STEPS), jax_losses, losses[SWITCH:], dtype,
                      torch_envelope(case, dtype))
    assert fr.passed, fr.message


# ---------------------------------------------------------------- (b) JAX → torch


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_jax_then_torch(case, dtype):
    """50 JAX steps, to_torch into a fresh torch optimizer over the JAX parameters, 50 torch steps == 100 JAX steps.

    Teacher-forced: at each t, torch's step from the converted JAX state (the reference) against JAX's own step t + 1.
    """
    rows, losses, tx = jax_run(case, dtype)
    _, x, y = problem(dtype)
    ts = range(SWITCH, STEPS)
    converted = {t: optim_state.to_torch(rows[t]["state"], NAMES, torch_optimizer(case, torch_model(problem(dtype)[0], dtype)))
                 for t in ts}
    theirs = [torch_step(case, dtype, rows[t]["params"], converted[t], rows[t]["grads"], t) for t in ts]
    truth = None
    if (case, dtype) in TRUTH_JUDGED:
        truth = [torch_step(case, "float64", rows[t]["params"], converted[t], rows[t]["grads"], t) for t in ts]
    tf = teacher_forced([flat_state(rows[t + 1]["params"], rows[t + 1]["state"]) for t in ts], theirs,
                        [flat_state(rows[t]["params"], rows[t]["state"]) for t in ts],
                        np.arange(SWITCH + 1, STEPS + 1), dtype, truth)
    assert tf.passed, tf.message

    model = torch_model(rows[SWITCH]["params"], dtype)
    opt = torch_optimizer(case, model)
    opt.load_state_dict(optim_state.to_torch(rows[SWITCH]["state"], NAMES, opt))
    torch_losses = []
    for _ in ts:
        torch_losses.append(torch_backward(model, x, y))
        opt.step()
    mine = flat_state(numpy_params(model), read_torch(opt.state_dict(), numpy_params(model), tx, STEPS))
    fr = free_running(mine, flat_state(rows[STEPS]["params"], rows[STEPS]["state"]), torch_losses, losses[SWITCH:],
                      dtype, torch_envelope(case, dtype))
    assert fr.passed, fr.message


# ---------------------------------------------------------------- (c) round trips


def assert_state_dicts_equal(a, b):
    assert a["param_groups"] == b["param_groups"]
    assert sorted(a["state"]) == sorted(b["state"])
    for i in a["state"]:
        assert list(a["state"][i]) == list(b["state"][i]), i
        for k, v in a["state"][i].items():
            w = b["state"][i][k]
            assert v.dtype == w.dtype and v.shape == w.shape and torch.equal(v, w), (i, k)


def assert_trees_equal(a, b):
    fa, fb = optim.state_to_flat(a), optim.state_to_flat(b)
    assert list(fa) == list(fb)
    for k in fa:
        assert np.asarray(fa[k]).dtype == np.asarray(fb[k]).dtype, k
        np.testing.assert_array_equal(np.asarray(fa[k]), np.asarray(fb[k]), err_msg=k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_round_trips_exact(case, dtype):
    """from_torch(to_torch(s)) == s and to_torch(from_torch(sd)) == sd bit for bit, at the start and mid-run;
    and what to_torch gives loads into torch as that very state_dict."""
    params0, x, y = problem(dtype)
    model = torch_model(params0, dtype)
    opt = torch_optimizer(case, model)
    tx = optim_state.optimizer_from_torch(opt)
    for steps in (0, 5):
        for _ in range(steps):
            torch_backward(model, x, y)
            opt.step()
        sd = copy.deepcopy(opt.state_dict())
        counts = {n: steps for n in NAMES}
        state = optim_state.from_torch(sd, NAMES, tx.init(numpy_params(model)), counts=counts)
        assert_state_dicts_equal(optim_state.to_torch(state, NAMES, opt), sd)
        assert_trees_equal(optim_state.from_torch(optim_state.to_torch(state, NAMES, opt), NAMES, tx,
                                                  params=numpy_params(model), counts=counts), state)
        fresh = torch_optimizer(case, torch_model(numpy_params(model), dtype))
        fresh.load_state_dict(optim_state.to_torch(state, NAMES, fresh))
        assert_state_dicts_equal(fresh.state_dict(), sd)
    assert_trees_equal(optim_state.from_torch(optim_state.to_torch(tx.init(params0), NAMES, opt), NAMES, tx,
                                              params=params0), tx.init(params0))


@pytest.mark.parametrize("case", ["sgd_momentum", "rmsprop_momentum_centered", "adam_amsgrad"])
def test_parameter_without_state(case):
    """A parameter torch has no state for yet (no gradient so far) is jaxport's initial state, both ways,
    and one step from the mixed state agrees (teacher-forced)."""
    dtype = "float64"
    params0, x, y = problem(dtype)
    model = torch_model(params0, dtype)
    opt = torch_optimizer(case, model)
    tx = optim_state.optimizer_from_torch(opt)
    for _ in range(3):
        torch_backward(model, x, y)
        model[2].bias.grad = None  # as torch does for a parameter outside the loss: no step, no state
        opt.step()
    sd = copy.deepcopy(opt.state_dict())
    assert 3 not in sd["state"]
    counts = {n: 0 if n == "2.bias" else 3 for n in NAMES}
    state = optim_state.from_torch(sd, NAMES, tx, params=params0, counts=counts)
    flat = optim.state_to_flat(state)
    assert int(flat["count.2.bias"]) == 0 and int(flat["count.0.bias"]) == 3
    for k, v in flat.items():
        if k.endswith(".2.bias") and not k.startswith("count."):
            assert not np.any(np.asarray(v)), k
    assert_state_dicts_equal(optim_state.to_torch(state, NAMES, opt), sd)

    before_params = numpy_params(model)
    torch_backward(model, x, y)
    grads = {n: p.grad.numpy().copy() for n, p in model.named_parameters()}
    opt.step()
    ours = flat_state(*jax_stepper(tx)(before_params, state, grads))
    ref = flat_state(numpy_params(model), optim_state.from_torch(
        opt.state_dict(), NAMES, tx, params=params0, counts={n: c + 1 for n, c in counts.items()}))
    tf = teacher_forced([ours], [ref], [flat_state(before_params, state)], np.array([4]), dtype)
    assert tf.passed, tf.message


def test_chained_state_and_numpy_values():
    """A chain's state (clip_grad_norm before the optimizer) converts; NumPy arrays stand in for tensors."""
    params0, x, y = problem("float32")
    model = torch_model(params0, "float32")
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(2):
        torch_backward(model, x, y)
        opt.step()
    sd = opt.state_dict()
    as_numpy = {"state": {i: {k: v.numpy() for k, v in s.items()} for i, s in sd["state"].items()},
                "param_groups": sd["param_groups"]}
    tx = optax.chain(optim.clip_grad_norm(1.0), optim_state.optimizer_from_torch(opt))
    state = optim_state.from_torch(as_numpy, NAMES, tx, params=params0)
    assert_trees_equal(state[1], optim_state.from_torch(sd, NAMES, optim_state.optimizer_from_torch(opt), params=params0))
    assert_state_dicts_equal(optim_state.to_torch(state, NAMES, opt), sd)


def test_named_parameters_groups_and_param_groups_source():
    """torch's param_names (an optimizer built from named_parameters()) are checked against param_names;
    to_torch also takes param_groups with tensors."""
    params0, x, y = problem("float64")
    model = torch_model(params0, "float64")
    opt = torch.optim.SGD(model.named_parameters(), lr=0.1, momentum=0.9)
    torch_backward(model, x, y)
    opt.step()
    tx = optim_state.optimizer_from_torch(opt)
    state = optim_state.from_torch(opt.state_dict(), NAMES, tx, params=params0)
    with pytest.raises(optim_state.OptimizerStateError, match=r"param_names\[0\] is '0.bias'"):
        optim_state.from_torch(opt.state_dict(), ["0.bias", "0.weight", "2.weight", "2.bias"], tx, params=params0)
    out = optim_state.to_torch(state, NAMES, opt.param_groups)
    assert_state_dicts_equal(out, opt.state_dict())


# ---------------------------------------------------------------- (d) errors: one line each


def one_line(excinfo, *parts):
    msg = str(excinfo.value)
    assert "\n" not in msg, msg
    for p in parts:
        assert p in msg, msg


def _adam_after_steps(**kw):
    params0, x, y = problem("float32")
    model = torch_model(params0, "float32")
    opt = torch.optim.Adam(model.parameters(), **kw)
    torch_backward(model, x, y)
    opt.step()
    return params0, model, opt


def test_optimizer_from_torch_refusals():
    model = torch_model(problem("float32")[0], "float32")
    with pytest.raises(optim_state.UnsupportedOptimizerError) as e:
        optim_state.optimizer_from_torch(torch.optim.Adagrad(model.parameters()))
    one_line(e, "torch.optim.adagrad.Adagrad", "supported: torch.optim.SGD, RMSprop, Adam, AdamW")
    with pytest.raises(optim_state.UnsupportedOptimizerError) as e:
        optim_state.optimizer_from_torch(torch.optim.Adam(model.parameters(), maximize=True))
    one_line(e, "maximize=True", "supported: maximize=False")
    with pytest.raises(optim_state.UnsupportedOptimizerError) as e:
        optim_state.optimizer_from_torch(torch.optim.SGD(
            [{"params": list(model[0].parameters())}, {"params": list(model[2].parameters()), "lr": 0.01}], lr=0.1))
    one_line(e, "param_groups[1] has lr=0.01", "param_groups[0] has 0.1", "supported:")
    for key, value in (("fused", True), ("capturable", True), ("differentiable", True), ("eps_in_sqrt", True)):
        opt = torch.optim.Adam(model.parameters())
        opt.param_groups[0][key] = value
        with pytest.raises(optim_state.UnsupportedOptimizerError) as e:
            optim_state.optimizer_from_torch(opt)
        one_line(e, f"{key}={value!r}", "supported")
    assert issubclass(optim_state.UnsupportedOptimizerError, UsageError)
    # groups that differ in their params only are one transformation
    optim_state.optimizer_from_torch(torch.optim.SGD(
        [{"params": list(model[0].parameters())}, {"params": list(model[2].parameters())}], lr=0.1, momentum=0.9))


def test_state_errors():
    params0, model, opt = _adam_after_steps(lr=1e-2)
    sd = opt.state_dict()
    adam = optim_state.optimizer_from_torch(opt)
    E = optim_state.OptimizerStateError
    assert issubclass(E, StateDictError) and issubclass(E, UsageError)

    # a state_dict of another optimizer family
    sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    torch_backward(model, *problem("float32")[1:])
    sgd.step()
    with pytest.raises(E) as e:
        optim_state.from_torch(sgd.state_dict(), NAMES, adam, params=params0)
    one_line(e, "param_groups[0] is SGD's", "the JAX state is Adam's")
    with pytest.raises(E) as e:
        optim_state.to_torch(adam.init(params0), NAMES, sgd)
    one_line(e, "param_groups[0] is SGD's", "Adam's")
    # the right family, other buffers (amsgrad)
    with pytest.raises(E) as e:
        optim_state.from_torch(sd, NAMES, optim.adam(amsgrad=True), params=params0)
    one_line(e, "keeps buffers ['exp_avg', 'exp_avg_sq']", "'max_exp_avg_sq'")
    # names
    with pytest.raises(E) as e:
        optim_state.from_torch(sd, NAMES[:3], adam, params=params0)
    one_line(e, "hold 4 parameters, param_names has 3")
    with pytest.raises(E) as e:
        optim_state.from_torch(sd, ["0.weight", "0.bias", "2.weight", "fc.bias"], adam, params=params0)
    one_line(e, "'fc.bias' (index 3) is not in the JAX state")
    # a buffer of the wrong shape, a missing buffer, a missing step, a bad step, a stray buffer, a dtype
    bad = copy.deepcopy(sd)
    bad["state"][2]["exp_avg"] = bad["state"][2]["exp_avg"].T.contiguous()
    with pytest.raises(E) as e:
        optim_state.from_torch(bad, NAMES, adam, params=params0)
    one_line(e, "parameter '2.weight' (index 2)", "'exp_avg' has shape (4, 2), expected (2, 4)")
    bad = copy.deepcopy(sd)
    del bad["state"][1]["exp_avg_sq"]
    with pytest.raises(E) as e:
        optim_state.from_torch(bad, NAMES, adam, params=params0)
    one_line(e, "parameter '0.bias' (index 1)", "lacks buffer 'exp_avg_sq'")
    bad = copy.deepcopy(sd)
    del bad["state"][0]["step"]
    with pytest.raises(E) as e:
        optim_state.from_torch(bad, NAMES, adam, params=params0)
    one_line(e, "parameter '0.weight' (index 0)", "lacks 'step'")
    bad = copy.deepcopy(sd)
    bad["state"][0]["step"] = torch.tensor(1.5)
    with pytest.raises(E) as e:
        optim_state.from_torch(bad, NAMES, adam, params=params0)
    one_line(e, "'step' is 1.5", "whole number")
    bad = copy.deepcopy(sd)
    bad["state"][3]["momentum_buffer"] = torch.zeros(2)
    with pytest.raises(E) as e:
        optim_state.from_torch(bad, NAMES, adam, params=params0)
    one_line(e, "parameter '2.bias' (index 3)", "buffer 'momentum_buffer'")
    bad = copy.deepcopy(sd)
    bad["state"][3]["exp_avg"] = bad["state"][3]["exp_avg"].double()
    with pytest.raises(E) as e:
        optim_state.from_torch(bad, NAMES, adam, params=params0)
    one_line(e, "'exp_avg' has dtype float64, expected float32")
    bad = copy.deepcopy(sd)
    bad["state"][9] = {}
    with pytest.raises(E) as e:
        optim_state.from_torch(bad, NAMES, adam, params=params0)
    one_line(e, "parameter index 9")
    with pytest.raises(E) as e:
        optim_state.from_torch(sd, NAMES, adam, params=params0, counts={n: 2 for n in NAMES})
    one_line(e, "counts gives 2, torch's 'step' is 1")
    with pytest.raises(E) as e:
        optim_state.from_torch({"state": {}}, NAMES, adam, params=params0)
    one_line(e, "expected a torch optimizer state_dict", "'param_groups'")
    with pytest.raises(UsageError) as e:
        optim_state.from_torch(sd, NAMES, adam)
    one_line(e, "needs params=")
    # a JAX state with leaves torch has no place for (lookahead's slow weights), or no optimizer state
    with pytest.raises(E) as e:
        optim_state.from_torch(sd, NAMES, optim.lookahead(adam), params=params0)
    one_line(e, "JAX state leaf", "no torch.optim counterpart")
    with pytest.raises(E) as e:
        optim_state.to_torch(optax.EmptyState(), NAMES, opt)
    one_line(e, "holds 0 jaxport.optim", "expected exactly one")
    # to_torch: a JAX state whose shapes are not the torch parameters'
    transposed = {n: (v.T if v.ndim == 2 else v) for n, v in params0.items()}
    with pytest.raises(E) as e:
        optim_state.to_torch(adam.init(transposed), NAMES, opt)
    one_line(e, "parameter '0.weight' (index 0)", "has shape (3, 4), the torch parameter (4, 3)")
