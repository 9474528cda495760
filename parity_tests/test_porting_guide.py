"""docs/porting.md runs as written (issue 14, item 7): its transformer port passes in both dtypes, and
each planted trap it describes FAILs; the README links the guide."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "porting.md"
PORT = ROOT / "docs" / "porting" / "transformer.py"


def _compare(*argv, bug=""):
    env = {**os.environ, "JAXPORT_PORTING_BUG": bug, "JAXPORT_COMPILATION_CACHE": "0"}
    return subprocess.run([sys.executable, "-m", "jaxport", "compare", str(PORT), *argv], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=900)


def test_the_transformer_port_passes():
    r = _compare("--dtype", "both")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "P01 transformer_encoder  [float32, cpu]  JAX vs torch: PASS" in r.stdout
    assert "P01 transformer_encoder  [float64, cpu]  JAX vs torch: PASS" in r.stdout


@pytest.mark.parametrize("bug, layer", [("layernorm_eps", "encoder.layers.0.norm1 (LayerNorm) output"),
                                        ("transposed_in_proj", "encoder.layers.0.self_attn (MultiheadAttention) output")])
def test_each_planted_trap_fails_naming_its_layer(bug, layer):
    r = _compare("--dtype", "float64", "--steps", "10", bug=bug)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"P01 transformer_encoder[{bug}]  [float64, cpu]  JAX vs torch: FAIL" in r.stdout
    assert re.search(r"same_point .* FAIL", r.stdout)
    assert f"first divergence: {layer}" in r.stdout, r.stdout


@pytest.mark.slow
def test_the_transformer_port_passes_a_seed_sweep():
    r = _compare("--seeds", "0:10", "--dtype", "both")
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_guide_names_what_exists():
    text = GUIDE.read_text()
    for cmd in re.findall(r"^(?:JAXPORT_PORTING_BUG=\S+ )?jaxport compare (docs/porting/\S+)", text, re.M):
        assert (ROOT / cmd).is_file()
    for bug in re.findall(r"JAXPORT_PORTING_BUG=(\w+)", text):
        assert bug in importlib.import_module("jaxport.check").__doc__ or bug in PORT.read_text()
    for path in ("parity_tests/test_optim_state.py", "parity_tests/user_port/", "jaxport.conv.max_pool"):
        assert path.split("/")[-1] in text or path in text
    assert "docs/porting.md" in (ROOT / "README.md").read_text()
