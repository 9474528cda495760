"""Shared assertions for the per-example parity tests."""

from jaxport import harness
from jaxport.spec import Example


def init_for(example: Example):
    """The example's default initial values (the seed's fixed ones, else seed 0)."""
    return example.init()


def assert_parity(example: Example, dtype: str, device: str, **overrides) -> harness.Comparison:
    """Every regime passes; on failure the message names example, regime, leaf, step and Δ."""
    c = harness.compare(example, init_for(example), dtype=dtype, device=device, **overrides)
    failures = [r.message for r in c.regimes if not r.passed]
    assert not failures, "\n".join(failures)
    if example.kind == "values":
        expected = {"values"}
    else:
        expected = {"same_point", "teacher_forced", "free_running"} | ({"float64_drift"} if dtype == "float32" else set())
    assert {r.name for r in c.regimes} == expected
    return c
