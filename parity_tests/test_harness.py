"""The harness itself: it must fail, and say where, when a planted difference is there."""

import dataclasses

import jax
import numpy as np
import pytest

from jaxport import harness, tolerances
from jaxport.examples.e03_polynomial_autograd import port as e03
from jaxport.examples.e04_legendre_custom_function import port as e04

from _helpers import init_for

STEPS = 200  # enough for every regime to see the planted difference, short enough to be quick


def _regime(c: harness.Comparison, name: str) -> harness.RegimeResult:
    return next(r for r in c.regimes if r.name == name)


def test_changed_learning_rate_fails_teacher_forced_and_free_running():
    def step(p, data, t, cfg):
        loss, grads = e03.loss_and_grad(p, data)
        return jax.tree.map(lambda q, g: q - 1.01 * cfg.lr * g, p, grads), {"loss": loss, "grads": grads}

    planted = dataclasses.replace(e03.EXAMPLE, step=step)
    c = harness.compare(planted, init_for(planted), dtype="float64", steps=STEPS)
    assert not c.passed
    assert _regime(c, "same_point").passed  # the gradients are still right
    tf = _regime(c, "teacher_forced")
    assert not tf.passed and not _regime(c, "free_running").passed
    assert "E03 polynomial_autograd" in tf.message and "teacher_forced" in tf.message
    assert f"leaf '{tf.worst_leaf}' at step {tf.worst_step}" in tf.message
    assert tf.worst_leaf in "abcd" and 1 <= tf.worst_step <= STEPS
    assert "Diagnosis" not in _regime(c, "free_running").message  # a step-by-step failure needs none


def _wrong_backward_e04():
    """E04 with a sign slip in P3's backward (5 t^2 + 1)."""

    @jax.custom_vjp
    def p3(t):
        return e04.legendre_p3_forward_math(t)

    p3.defvjp(lambda t: (p3(t), t), lambda t, g: (g * 1.5 * (5 * t**2 + 1),))

    def loss(p, data):
        return ((p["a"] + p["b"] * p3(p["c"] + p["d"] * data["x"]) - data["y"]) ** 2).sum()

    loss_and_grad = jax.value_and_grad(loss)

    def step(p, data, t, cfg):
        l, g = loss_and_grad(p, data)
        return jax.tree.map(lambda q, gg: q - cfg.lr * gg, p, g), {"loss": l}

    return dataclasses.replace(e04.EXAMPLE, loss_and_grad=loss_and_grad, step=step)


def test_wrong_custom_backward_fails_same_point():
    """A sign slip in P3's backward (5 t^2 + 1) is caught at the same point, naming the gradient."""
    planted = _wrong_backward_e04()
    c = harness.compare(planted, init_for(planted), dtype="float32", steps=STEPS)
    sp = _regime(c, "same_point")
    assert not sp.passed
    assert sp.worst_leaf in ("grad[c]", "grad[d]")  # only c and d are behind P3's backward
    assert "E04 legendre_custom_function [float32/cpu] same_point" in sp.message


def test_a_parted_free_run_with_every_step_agreeing_is_decided_by_shadowing(monkeypatch):
    """A free run held to rtol 0 parts on rounding alone; same_point and teacher_forced pass, so the
    harness asks the reference along JAX's own run: the two compute the same thing there, so the
    verdict is PASS, labelled as shadowed."""
    strict = tolerances.Tolerance(0.0, 0.0, "planted: no rounding allowed")
    real = harness.tolerance
    monkeypatch.setattr(harness, "tolerance", lambda e, d, r, dev: strict if r == "free_running" else real(e, d, r, dev))
    c = harness.compare(e03.EXAMPLE, init_for(e03.EXAMPLE), dtype="float32", steps=STEPS)
    assert _regime(c, "same_point").passed and _regime(c, "teacher_forced").passed
    fr = _regime(c, "free_running")
    assert fr.passed and fr.note.startswith("parted at step ") and fr.note.endswith(", shadowed")
    assert "of JAX's own states the reference computes the same loss and gradients" in fr.message
    assert c.as_dict()["regimes"][2]["note"] == fr.note


def test_the_shadow_check_names_a_wrong_gradient_along_jaxs_run():
    """Asked along JAX's run, a wrong backward (the sign slip above) is named, not explained away."""
    planted = _wrong_backward_e04()
    cfg = dataclasses.replace(planted.config, steps=STEPS)
    shadow = harness.shadow_same_point(planted, cfg, "cpu", planted.label, init_for(planted), planted.make_data(cfg))
    assert not shadow.passed and shadow.worst_leaf in ("grad[c]", "grad[d]")


def test_shifted_parameter_fails_teacher_forced_naming_the_leaf():
    """c and d swapped after the update: the harness names c or d, at step 1."""

    def step(p, data, t, cfg):
        new, aux = e03.step(p, data, t, cfg)
        return {**new, "c": new["d"], "d": new["c"]}, aux

    planted = dataclasses.replace(e03.EXAMPLE, step=step)
    c = harness.compare(planted, init_for(planted), dtype="float32", steps=STEPS)
    tf = _regime(c, "teacher_forced")
    assert not tf.passed and tf.worst_leaf in ("c", "d") and tf.worst_step >= 1


def test_transposed_leaf_is_a_shape_failure_not_a_crash():
    ours = {"w": np.zeros((1, 3, 2))}
    ref = {"w": np.zeros((1, 2, 3))}
    r = harness.compare_trees("EXX test", "same_point", ours, ref, np.array([0]), tolerances.Tolerance(1e-6, 0, "test"))
    assert not r.passed and "shape [3, 2] in JAX, [2, 3] in the reference" in r.message


def test_compare_trees_bounds_and_nans():
    tol = tolerances.Tolerance(1e-3, 0.0, "test")
    ref = {"a": np.array([[1.0, 2.0]]), "b": np.array([[1e-9, np.nan]])}
    ok = {"a": np.array([[1.0015, 2.0]]), "b": np.array([[0.0, np.nan]])}  # scale is the tree max (2.0)
    assert harness.compare_trees("X", "r", ok, ref, np.array([7]), tol).passed
    bad = {"a": np.array([[1.0, 2.003]]), "b": np.array([[0.0, np.nan]])}
    r = harness.compare_trees("X", "r", bad, ref, np.array([7]), tol)
    assert not r.passed and r.worst_leaf == "a" and r.worst_step == 7
    assert r.max_abs == pytest.approx(0.003) and r.max_rel == pytest.approx(0.0015)
    one_nan = {"a": np.array([[1.0, 2.0]]), "b": np.array([[np.nan, np.nan]])}
    assert not harness.compare_trees("X", "r", one_nan, ref, np.array([7]), tol).passed


def test_one_sided_infinity_fails_and_matching_infinities_pass():
    tol = tolerances.Tolerance(1e-3, 0.0, "test")
    ref = {"a": np.array([[np.inf, 1.0]])}
    assert not harness.compare_trees("X", "r", {"a": np.array([[1e30, 1.0]])}, ref, np.array([0]), tol).passed
    assert not harness.compare_trees("X", "r", {"a": np.array([[-np.inf, 1.0]])}, ref, np.array([0]), tol).passed
    assert not harness.compare_trees("X", "r", {"a": np.array([[1.0, 1.0]])}, {"a": np.array([[1.0, np.inf]])}, np.array([0]), tol).passed
    assert harness.compare_trees("X", "r", {"a": np.array([[np.inf, 1.0005]])}, ref, np.array([0]), tol).passed


def test_envelope_widens_only_by_its_factor():
    ref = {"a": np.array([[1.0]])}
    ours = {"a": np.array([[1.01]])}
    env = {"a": np.array([[0.004]])}
    assert harness.compare_trees("X", "r", ours, ref, np.array([0]), tolerances.Tolerance(0, 0, "t", factor=3.0), env).passed
    assert not harness.compare_trees("X", "r", ours, ref, np.array([0]), tolerances.Tolerance(0, 0, "t", factor=2.0), env).passed


def test_every_table_entry_has_a_reason_and_every_regime_an_entry():
    for key, tol in {**tolerances.TABLE, **tolerances.OVERRIDES}.items():
        assert len(tol.reason) > 20, key
    for dtype in ("float32", "float64"):
        for regime in ("same_point", "teacher_forced", "free_running", "values"):
            for device in ("cpu", "gpu"):
                tolerances.tolerance("E03", dtype, regime, device)
    for (example, dtype, regime, device) in tolerances.OVERRIDES:  # every override exists for both devices
        assert (example, dtype, regime, "gpu" if device == "cpu" else "cpu") in tolerances.OVERRIDES
    tolerances.tolerance("E03", "float32", "float64_drift", "cpu")
    with pytest.raises(KeyError, match="add a measured entry"):
        tolerances.tolerance("E03", "float16", "same_point", "cpu")


def test_a_trajectory_too_long_to_record_whole_records_an_even_sample():
    """E17 on the real Fashion-MNIST's 5 epochs (4690 steps) would record ~100 GiB whole: a sample that fits."""
    from jaxport.examples.e17_fashion_mnist_classifier import port as e17

    cfg = dataclasses.replace(e17.EXAMPLE.config, steps=4690)
    steps = harness.record_steps(e17.EXAMPLE, cfg, e17.EXAMPLE.init())
    assert harness.MIN_RECORDED <= len(steps) < 4690 and steps[0] == 0 and steps[-1] == 4689
    assert np.all(np.diff(steps) > 0)
    short = dataclasses.replace(cfg, steps=120)
    assert np.array_equal(harness.record_steps(e17.EXAMPLE, short, e17.EXAMPLE.init()), np.arange(120))


@pytest.mark.parametrize("eid", ["E03", "E06"])  # a whole step (E03) and an optimizer's apply with its update probe (E06)
def test_a_sampled_recording_checks_the_sampled_steps(monkeypatch, eid):
    """With room for ~40 of E03's/E06's 2000 steps, the regimes check those (and the state after each)."""
    from jaxport import catalog

    example = catalog.load(eid)
    p0 = example.init()
    values = sum(np.size(v) for v in example.state(p0).values()) + sum(np.size(v) for v in p0.values())
    monkeypatch.setattr(harness, "RECORD_LIMIT_BYTES", 6 * 8 * 40 * 2 * values)
    recorded = harness.record_steps(example, example.config, p0)
    assert 30 <= len(recorded) <= 80 and len(recorded) < example.config.steps
    c = harness.compare(example, p0, dtype="float32")
    assert c.passed, [r.message for r in c.regimes if not r.passed]
    for r in c.regimes:
        if r.name in ("same_point", "teacher_forced"):
            assert r.worst_step in set(recorded.tolist()) | set((recorded + 1).tolist()), (r.name, r.worst_step)


def test_a_model_too_large_to_record_even_a_sample_is_refused_before_anything_runs(monkeypatch, capsys):
    from jaxport import catalog
    from jaxport.cli import main
    from jaxport.errors import UsageError

    monkeypatch.setattr(harness, "RECORD_LIMIT_BYTES", 1000)
    e03 = catalog.load("E03")
    with pytest.raises(UsageError, match=r"one recorded step of this model holds .* expected a model of at most"):
        harness.compare(e03, e03.init(), dtype="float32")
    assert main(["compare", "E03"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1


def test_update_terms_cover_a_buffer_that_cancelled():
    """E08 seed 5, step 20157 (float32): buf = 0.9·1039.1658 - 928.5663 = 6.68 and e = -2.0e-8 - 1e-8·buf.
    The buffer is rounded at its terms' ulp (~1e-4), which lr carries into e (~1e-12), far above e's own
    ulp: e's terms include its step times the buffer's cancellation; without a buffer they are |old|, |new|."""
    f32 = np.float32
    before = {"e": np.array([-2.0011994e-08], f32), "momentum_buffer.e": np.array([1039.1658], f32)}
    buf = f32(0.9) * before["momentum_buffer.e"] + f32(-928.5663)
    after = {"e": before["e"] - f32(1e-8) * buf, "momentum_buffer.e": buf}
    terms = harness.update_terms(before, after, ["e"])
    kappa = 1039.1658 / float(np.abs(buf[0]))
    np.testing.assert_allclose(terms["e"], kappa * np.abs(after["e"].astype(np.float64) - before["e"]), rtol=1e-6)
    assert terms["e"][0] > 100 * abs(float(after["e"][0]))  # the buffer's rounding, carried by lr, dominates
    # the error one rounding of the buffer makes in e is inside 16 eps of those terms, not of |e|
    err = 1e-8 * float(np.spacing(f32(935.0)))
    assert err <= 16 * np.finfo(f32).eps * terms["e"][0] and err > 16 * np.finfo(f32).eps * abs(float(after["e"][0]))
    plain = harness.update_terms({"a": np.array([2.0])}, {"a": np.array([-1.0])}, ["a"])
    assert plain["a"][0] == 2.0
