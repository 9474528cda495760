"""Seed sweeps (`jaxport compare --seeds`) and config overrides (`--set KEY=VALUE`)."""

import dataclasses
import json
import os
import re

import pytest

from jaxport import catalog, cli, harness
from jaxport.cli import main

SUMMARY_KEYS = {"runs", "passed", "worst_ratio", "worst_seed"}
FLOAT32_REGIMES = ["same_point", "teacher_forced", "free_running", "float64_drift"]
FLOAT64_REGIMES = ["same_point", "teacher_forced", "free_running"]


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *needles):
    assert code == 2
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("jaxport: error:"), err
    for n in needles:
        assert n in lines[0], (n, err)


def test_sweep_text_table(capsys):
    code, out, err = run_cli(capsys, "compare", "E03", "--seeds", "0:2", "--steps", "20", "--dtype", "both")
    assert code == 0, out + err
    lines = out.strip().splitlines()
    assert re.fullmatch(r"E03 polynomial_autograd  seeds 0:2 \(2\) × float32, float64  \[cpu\]  JAX vs torch: PASS   "
                        r"\(4 of 4 comparisons passed\)", lines[0]), lines[0]
    assert lines[1].split() == ["dtype", "regime", "runs", "passed", "pass", "rate", "worst", "ratio", "seed", "step"]
    rows = [line.split() for line in lines[2:-1]]
    assert [(r[0], r[1]) for r in rows] == ([("float32", g) for g in FLOAT32_REGIMES]
                                            + [("float64", g) for g in FLOAT64_REGIMES])
    for r in rows:
        assert r[2:5] == ["2", "2", "100.0%"], r
        assert r[5] == "n/a" or float(r[5]) <= 1.0, r  # the worst ratio to the bound, where the harness gives it
        assert r[6] in ("-", "0", "1"), r  # its seed
    assert "FAIL" not in out
    assert lines[-1] == "4 passed, 0 failed"


def test_sweep_json_shape(capsys):
    code, out, _ = run_cli(capsys, "compare", "E03", "--seeds", "0:2", "--steps", "20", "--dtype", "both", "--json")
    doc = json.loads(out)
    assert code == 0
    assert set(doc) == {"example", "seeds", "dtypes", "runs", "summary"}
    assert doc["example"] == "E03" and doc["seeds"] == [0, 1] and doc["dtypes"] == ["float32", "float64"]
    assert [(r["seed"], r["dtype"]) for r in doc["runs"]] == [(0, "float32"), (0, "float64"), (1, "float32"), (1, "float64")]
    for r in doc["runs"]:
        assert r["example"] == "E03" and r["passed"] is True and r["regimes"]
    assert list(doc["summary"]) == ["float32", "float64"]
    assert list(doc["summary"]["float32"]) == FLOAT32_REGIMES and list(doc["summary"]["float64"]) == FLOAT64_REGIMES
    for regimes in doc["summary"].values():
        for s in regimes.values():
            assert set(s) == SUMMARY_KEYS
            assert s["runs"] == 2 and s["passed"] == 2
            assert s["worst_ratio"] is None or s["worst_ratio"] <= 1.0
            assert s["worst_seed"] in (None, 0, 1)


def test_sweep_runs_the_comparison_of_each_seed(capsys, monkeypatch):
    """A sweep's run for seed S is `compare --seed S`'s: the same initial values and config."""
    calls = []
    real = harness.compare

    def spy(example, init, **kw):
        calls.append((example.id, {k: float(v) for k, v in init.items()}, kw))
        return real(example, init, **kw)

    monkeypatch.setattr(harness, "compare", spy)
    assert main(["compare", "E08", "--seeds", "3,5", "--steps", "10", "--dtype", "float64", "--json"]) == 0
    swept = calls[:]
    calls.clear()
    for s in ("3", "5"):
        assert main(["compare", "E08", "--seed", s, "--steps", "10", "--dtype", "float64", "--json"]) == 0
    capsys.readouterr()
    assert swept == calls and [c[2]["seed"] for c in calls] == [3, 5]  # E08 draws its orders from the seed too


def test_sweep_interrupted_prints_what_finished(capsys, monkeypatch):
    real = harness.compare
    count = [0]

    def interrupt_third(*a, **kw):
        count[0] += 1
        if count[0] == 3:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(harness, "compare", interrupt_third)
    code, out, err = run_cli(capsys, "compare", "E03", "--seeds", "0:3", "--steps", "20", "--dtype", "float64")
    assert code == 130 and err.strip() == "jaxport: interrupted"
    assert "JAX vs torch: INTERRUPTED   (2 of 2 comparisons passed, 2 of 3 run)" in out
    assert out.strip().endswith("2 passed, 0 failed (interrupted: the summary is of what finished)")


def test_sweep_counts_a_diverged_run_as_a_failure(capsys):
    code, out, err = run_cli(capsys, "compare", "E03", "--seeds", "0:2", "--lr", "1e-2", "--steps", "200", "--dtype", "float64")
    assert code == 1, err
    fails = [line for line in out.splitlines() if line.startswith("  FAIL seed")]
    assert len(fails) == 2 and all("diverged" in line for line in fails), out
    assert out.strip().endswith("0 passed, 2 failed")


def test_sweep_over_several_examples_is_a_list(capsys):
    code, out, _ = run_cli(capsys, "compare", "E03", "E12", "--seeds", "1", "--steps", "10", "--dtype", "float64", "--json")
    docs = json.loads(out)
    assert code == 0 and [d["example"] for d in docs] == ["E03", "E12"]
    assert list(docs[1]["summary"]["float64"]) == ["values"]  # a values example sweeps too


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["compare", "E03", "--seeds", "0:2", "--seed", "1"], ["--seed", "not allowed with argument --seeds"]),
        (["compare", "E03", "--seeds", "0:2", "--init", "x.json"], ["--init", "not allowed with argument --seeds"]),
        (["compare", "E03", "--seeds", "5:2"], ["--seeds", "half-open range", "'5:2'"]),
        (["compare", "E03", "--seeds", "a,b"], ["--seeds", "'a,b'"]),
        (["compare", "E03", "--seeds", "1,1"], ["--seeds", "each seed once"]),
        (["compare", "E03", "--seeds", "0:2", "--plot", "x.png"], ["--plot", "without --seeds"]),
        (["run", "E03", "--seeds", "0:2"], ["unrecognized arguments: --seeds"]),
    ],
)
def test_bad_seeds_one_line_exit_2(capsys, argv, needles):
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, *needles)


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["run", "E03", "--set", "bogus=1"], ["--set bogus=1", "E03 polynomial_autograd", "no field 'bogus'"]),
        (["compare", "E15", "--set", "alpha=fast"], ["--set alpha=fast", "E15 adam_lookahead", "'alpha'", "a finite number", "'fast'"]),
        (["run", "E15", "--set", "betas=0.9"], ["--set betas=0.9", "'betas'", "2 comma-separated values"]),
        (["run", "E15", "--set", "k=2.5"], ["--set k=2.5", "'k'", "an integer"]),
        (["run", "E13", "--set", "momentum=nan"], ["--set momentum=nan", "a finite number"]),
        (["run", "E13", "--set", "lr=0.5"], ["--set lr=0.5", "own flag", "--lr"]),
        (["compare", "E08", "--set", "seed=3"], ["--set seed=3", "own flag", "--seed"]),
        (["run", "E13", "--set", "momentum"], ["--set", "KEY=VALUE", "'momentum'"]),
        (["run", "E13", "--set", "momentum=0.5", "--set", "momentum=0.1"], ["'momentum' is set twice"]),
        (["compare", "E03", "E13", "--set", "momentum=0.0"], ["E03 polynomial_autograd's config has no field 'momentum'"]),
    ],
)
def test_bad_set_one_line_exit_2(capsys, argv, needles):
    code, out, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, *needles)
    assert out == ""  # checked before anything runs


def test_set_changes_the_run(capsys):
    """LookAhead's slow step size (E15's alpha) changes the trained loss; the flag's default reproduces the seed's."""
    finals = {}
    for extra in ([], ["--set", "alpha=0.9"], ["--set", "alpha=0.5"]):
        code, out, _ = run_cli(capsys, "run", "E15", "--steps", "50", "--json", *extra)
        assert code == 0
        finals[" ".join(extra)] = json.loads(out)["final_loss"]
    assert finals["--set alpha=0.9"] != finals[""]
    assert finals["--set alpha=0.5"] == finals[""]  # 0.5 is E15's default


def test_set_reaches_the_reference_too(capsys):
    """`compare --set` gives both frameworks the overridden config: parity holds, and the run is another one."""
    code, out, _ = run_cli(capsys, "compare", "E13", "--dtype", "float64", "--json", "--set", "momentum=0.5")
    assert code == 0 and json.loads(out)["passed"], out
    finals = []
    for extra in ([], ["--set", "momentum=0.5"]):
        code, out, _ = run_cli(capsys, "run", "E13", "--dtype", "float64", "--json", *extra)
        assert code == 0
        finals.append(json.loads(out)["final_loss"])
    assert finals[0] != finals[1]


def test_set_a_field_that_changes_the_state_runs(capsys):
    """momentum 0: torch's SGD keeps no momentum buffer, and neither does the state built for that config."""
    code, out, err = run_cli(capsys, "run", "E13", "--set", "momentum=0.0")
    assert code == 0, err
    code, out, err = run_cli(capsys, "compare", "E13", "--set", "momentum=0.0", "--dtype", "float64")
    assert code == 0, out + err


def test_set_a_config_the_port_cannot_run_is_one_line(capsys, monkeypatch):
    """A port that cannot run a given config (here one planted to refuse momentum 0) fails inside the run:
    one line naming the --set, exit 2, not a traceback."""
    from jaxport.examples.e13_mycoolnet import port as e13

    def picky(cfg):
        if cfg.momentum == 0:
            raise ValueError("this port needs momentum")
        return e13.optim.sgd(cfg.lr, momentum=cfg.momentum)

    monkeypatch.setattr(e13, "EXAMPLE", dataclasses.replace(e13.EXAMPLE, optimizer=picky))
    code, out, err = run_cli(capsys, "run", "E13", "--set", "momentum=0.0")
    assert_one_line_error(code, err, "--set momentum=0.0", "the run fails with this config", "this port needs momentum")


@pytest.mark.parametrize(
    "tp, text, value",
    [
        (int, "7", 7), (float, "1e-3", 1e-3), (bool, "True", True), (bool, "false", False), (str, "x", "x"),
        (tuple[float, float], "0.9, 0.99", (0.9, 0.99)), (tuple[int, ...], "1,2,3", (1, 2, 3)),
        (str | None, "none", None), (str | None, "a/b", "a/b"),
    ],
)
def test_set_values_parse_by_the_fields_type(tp, text, value):
    assert cli._parse_as(tp, text) == value


@pytest.mark.parametrize("tp, text", [(int, "1.5"), (float, "inf"), (bool, "yes"), (tuple[float, float], "1,2,3"),
                                      (tuple[int, ...], "1,x")])
def test_set_values_that_do_not_parse(tp, text):
    with pytest.raises(ValueError):
        cli._parse_as(tp, text)


@pytest.mark.slow
def test_every_training_example_passes_over_20_seeds(capsys):
    """Every implemented training example, seeds 0:20, float32 and float64: every comparison passes.

    Long (E08's 30000 steps, the networks). ``JAXPORT_SWEEP_SEEDS`` / ``JAXPORT_SWEEP_EXAMPLES``
    (comma-separated ids) narrow it, e.g. to try it on one example and one seed.
    """
    ids = [e.id for e in catalog.implemented() if e.kind == "training"]
    if os.environ.get("JAXPORT_SWEEP_EXAMPLES"):
        ids = [i for i in os.environ["JAXPORT_SWEEP_EXAMPLES"].upper().split(",") if i in ids]
    assert ids
    seeds = os.environ.get("JAXPORT_SWEEP_SEEDS", "0:20")
    code = main(["compare", *ids, "--seeds", seeds, "--dtype", "both"])
    out, err = capsys.readouterr()
    with capsys.disabled():
        print(f"\n{out}")
    assert code == 0, "\n".join(line for line in out.splitlines() if line.startswith("  FAIL")) or err
    assert re.search(r"^\d+ passed, 0 failed$", out.strip().splitlines()[-1])


def test_report_shows_a_regimes_note():
    """The harness's note on a regime ("parted at step N, shadowed") ends its row; nothing else changes."""
    from jaxport import report

    c = harness.compare(catalog.load("E03"), catalog.load("E03").init(), dtype="float64", steps=20)
    plain = report.table(c).splitlines()
    c.regimes[2].note = "parted at step 12, shadowed"
    noted = report.table(c).splitlines()
    row = next(i for i, line in enumerate(plain) if line.startswith(f"  {c.regimes[2].name} "))
    assert noted[row] == plain[row] + "  (parted at step 12, shadowed)"
    assert noted[:row] + noted[row + 1:] == plain[:row] + plain[row + 1:]
