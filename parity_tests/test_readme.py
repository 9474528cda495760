"""The README is tested: its commands are what CI runs, its catalog table is the catalog's."""

import re
from pathlib import Path

from jaxport import catalog

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, flags=re.S)


def test_two_setup_commands_and_ci_runs_the_test_one():
    blocks = _bash_blocks()
    report_cmd, test_cmd = blocks[0].strip(), blocks[1].strip()
    assert report_cmd.endswith("jaxport compare --all")
    assert "-c constraints.txt" in report_cmd and "-c constraints.txt" in test_cmd
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_cmd in ci, ".ci/run must run the README's test command verbatim"


def test_constraints_pin_torch_cpu_build():
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line)
    assert pins["torch"] == "2.13.0"
    for pkg in ("jax", "jaxlib", "flax", "optax", "numpy"):
        assert pkg in pins, pkg


def test_catalog_table_is_current():
    assert catalog.markdown_table() in README, "README's catalog table is stale: paste catalog.markdown_table()"


def test_report_example_matches_the_report_format():
    assert re.search(r"E03 polynomial_autograd  \[float32, cpu\]  JAX vs torch: PASS   \(wall: jax \S+ s with compile, torch \S+ s\)", README)
    for regime in ("same_point", "teacher_forced", "free_running", "float64_drift"):
        assert f"**{regime}**" in README
