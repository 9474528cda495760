"""Each script in ``examples/`` prints what ``jaxport run ENN`` prints, bit for bit (stdout).

``jaxport.cli.main(["run", "ENN", ...])`` runs first, then the script, in-process as ``python
examples/eNN_name.py`` runs it (``runpy``, ``__main__``). A script reads its settings from its port's
``EXAMPLE.config``; where a seed's run is long, both run shorter by the same route a user has: the
fields given to ``jaxport run`` as flags, and to the script as the port's ``EXAMPLE`` with those fields
replaced. The seeds' full-length runs of those are the slow tests (``-m slow``).
"""

import dataclasses
import importlib
import runpy
from pathlib import Path

import pytest

from jaxport import catalog
from jaxport.catalog import Entry
from jaxport.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# Shorter runs for the default suite, each still printing periodic lines and the final ones. The
# time goes to compiling: the script's loop and jaxport's are two jits, each compiled once.
SHORT: dict[str, dict] = {
    **{eid: {"steps": 200} for eid in ("E01", "E02", "E03", "E04", "E05", "E06", "E07")},
    "E08": {"steps": 2000},
    "E13": {"steps": 3},
    "E15": {"steps": 20},
    "E17": {"steps": 24},  # one epoch of the offline digits
    "E20": {"steps": 1, "batch": 1},
    "E21": {"steps": 2, "print_every": 1, "digits_images": 8},
    "E28": {"steps": 50},
}
# A ResNet-18 forward and backward with nothing to shorten: only the seed's run, with -m slow.
SLOW_ONLY = {"E19"}


def _flags(fields: dict) -> list[str]:
    """``jaxport run``'s flags for config fields: ``--steps N``, else ``--set KEY=VALUE``."""
    out: list[str] = []
    for key, value in fields.items():
        out += ["--steps", str(value)] if key == "steps" else ["--set", f"{key}={value}"]
    return out


def _cases():
    for entry in catalog.CATALOG:
        if entry.id in SHORT:
            yield pytest.param(entry, SHORT[entry.id], id=f"{entry.id}-short")
        slow = entry.id in SHORT or entry.id in SLOW_ONLY
        yield pytest.param(entry, {}, id=entry.id, marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize(("entry", "fields"), _cases())
def test_script_prints_what_jaxport_run_prints(entry: Entry, fields: dict, capsys, monkeypatch):
    assert main(["run", entry.id, *_flags(fields)]) == 0
    expected = capsys.readouterr().out
    assert expected, f"jaxport run {entry.id} printed nothing"
    if fields:
        port = importlib.import_module(entry.module)
        short = dataclasses.replace(port.EXAMPLE.config, **fields)
        monkeypatch.setattr(port, "EXAMPLE", dataclasses.replace(port.EXAMPLE, config=short))
    monkeypatch.syspath_prepend(str(EXAMPLES))  # as `python examples/...` puts the script's folder first
    runpy.run_path(str(EXAMPLES / f"{entry.id.lower()}_{entry.name}.py"), run_name="__main__")
    assert capsys.readouterr().out == expected
