"""A fast start (issue 15): a JAX-only command never imports torch, listing imports neither JAX nor
torch, and a second run of an example loads its compiled loop from the persistent cache.

Each check runs in a fresh interpreter (the test process itself has imported everything).
"""

import json
import os
import subprocess
import sys

import pytest

from jaxport import _config


def _modules_after(argv: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``jaxport ARGV`` in a fresh interpreter; which heavy modules it imported, and its exit code."""
    code = ("import sys, json\nfrom jaxport.cli import main\nrc = main(%r)\n"
            "print(json.dumps({'rc': rc, 'torch': 'torch' in sys.modules, 'jax': 'jax' in sys.modules}), file=sys.stderr)"
            % (argv,))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **(env or {})})
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_list_imports_neither_jax_nor_torch():
    assert _modules_after(["list"]) == {"rc": 0, "torch": False, "jax": False}


def test_a_jax_run_never_imports_torch(tmp_path):
    seen = _modules_after(["run", "E03", "--steps", "200"], {"JAXPORT_CACHE_DIR": str(tmp_path), "JAXPORT_COMPILATION_CACHE": "1"})
    assert seen == {"rc": 0, "torch": False, "jax": True}


def test_a_reference_run_imports_torch_and_gives_it_the_threads(tmp_path):
    code = ("import torch; from jaxport.cli import main; rc = main(['run', 'E03', '--steps', '10', '--framework', 'torch']);"
            "import sys; print(rc, torch.get_num_threads(), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "JAXPORT_CPU_THREADS": "1", "JAXPORT_CACHE_DIR": str(tmp_path)})
    assert done.stderr.strip().splitlines()[-1] == "0 1"


def test_the_compilation_cache_is_filled_once_and_reused(tmp_path):
    env = {"JAXPORT_CACHE_DIR": str(tmp_path / "xla"), "JAXPORT_COMPILATION_CACHE": "1"}  # the suite turns it off
    assert _modules_after(["run", "E03", "--steps", "200"], env)["rc"] == 0
    entries = sorted(p.name for p in (tmp_path / "xla").iterdir())
    assert entries, "the first run wrote nothing to the cache"
    assert _modules_after(["run", "E03", "--steps", "200"], env)["rc"] == 0
    assert sorted(p.name for p in (tmp_path / "xla").iterdir()) == entries  # the second run compiled nothing new


@pytest.mark.parametrize("value", ["0", "off", "false"])
def test_the_cache_switch_turns_it_off(monkeypatch, value, tmp_path):
    monkeypatch.setenv("JAXPORT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("JAXPORT_COMPILATION_CACHE", value)
    assert _config.cache_dir() is None


def test_an_unwritable_cache_folder_leaves_the_cache_off(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("JAXPORT_CACHE_DIR", str(blocker / "xla"))  # cannot be created: its parent is a file
    monkeypatch.delenv("JAXPORT_COMPILATION_CACHE", raising=False)
    assert _config.enable_compilation_cache() is None
