"""How a comparison is shown: a table per regime, and the loss curves with |Δloss| on a log axis."""

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from jaxport.harness import Comparison
from jaxport.tolerances import tolerance_text


def _tol(r) -> str:
    return tolerance_text(r.tolerance.as_dict())


def table(c: Comparison) -> str:
    """A text table: one row per regime with max |Δ|, max relative Δ, tolerance, worst leaf and step."""
    head = (f"{c.example.label}  [{c.dtype}, {c.device}]  JAX vs {c.reference}: "
            f"{'PASS' if c.passed else 'FAIL'}   (wall: jax {c.jax_seconds:.2f} s with compile, {c.reference} {c.torch_seconds:.2f} s)")
    lines = [head, f"  {'regime':<15}{'max |Δ|':>10}{'max rel':>10}  {'tolerance':<22}{'worst leaf':<12}{'step':>6}  result"]
    for r in c.regimes:
        lines.append(f"  {r.name:<15}{r.max_abs:>10.2e}{r.max_rel:>10.2e}  {_tol(r):<22}{r.worst_leaf:<12}{r.worst_step:>6}  "
                     f"{'PASS' if r.passed else 'FAIL'}")
    for r in c.regimes:
        if not r.passed:
            lines.append(f"  FAIL {r.message}")
    return "\n".join(lines)


def check_plot_path(path: Path) -> None:
    """Fail early (before any run) on a ``--plot`` path that cannot be written."""
    from jaxport.errors import UsageError

    if path.suffix.lower() != ".png":
        raise UsageError(f"--plot {path}: expected a .png path")
    if not path.parent.is_dir():
        raise UsageError(f"--plot {path}: directory {path.parent} does not exist")


def plot(results: Sequence[Comparison], path: Path) -> list[Path]:
    """Write one PNG per comparison (one file when there is one): losses overlaid, |Δloss| on a log axis.

    Each file is written to a temporary name and renamed, so an existing file is only ever replaced
    by a complete one.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    check_plot_path(path)
    written = []
    results = [c for c in results if len(c.ref_losses)]  # values examples have no loss curve
    for c in results:
        out = path if len(results) == 1 else path.with_name(f"{path.stem}_{c.example.id}_{c.dtype}{path.suffix}")
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
        steps = np.arange(len(c.ref_losses))
        ax1.plot(steps, c.ref_losses, label=c.reference, lw=2.5, alpha=0.6)
        ax1.plot(steps, c.jax_losses, label="jax", lw=1, ls="--")
        ax1.set_yscale("log")
        ax1.set_ylabel("loss")
        ax1.legend()
        ax1.set_title(f"{c.example.label} [{c.dtype}, {c.device}]: {'PASS' if c.passed else 'FAIL'}")
        diff = np.abs(np.asarray(c.jax_losses, np.float64) - np.asarray(c.ref_losses, np.float64))
        ax2.semilogy(steps, np.where(diff > 0, diff, np.nan), lw=0.8)
        ax2.set_ylabel(f"|loss jax − loss {c.reference}|")
        ax2.set_xlabel("step")
        fig.tight_layout()
        fd, tmp = tempfile.mkstemp(suffix=".png", dir=out.parent)
        os.close(fd)
        try:
            fig.savefig(tmp)
            os.replace(tmp, out)
        finally:
            plt.close(fig)
            if os.path.exists(tmp):
                os.unlink(tmp)
        written.append(out)
    return written
