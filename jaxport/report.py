"""How a comparison is shown: a table per regime, and the loss curves with |Δloss| on a log axis;
a seed sweep (``compare --seeds``): a table per dtype and regime over the seeds."""

import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jaxport.harness import Comparison, RegimeResult
from jaxport.spec import Example
from jaxport.tolerances import tolerance_text


def _tol(r) -> str:
    return tolerance_text(r.tolerance.as_dict())


def table(c: Comparison) -> str:
    """A text table: one row per regime with max |Δ|, max relative Δ, tolerance, its ratio to the bound
    (at most 1 passes), worst leaf and step; then each failure's message."""
    head = (f"{c.example.label}  [{c.dtype}, {c.device}]  JAX vs {c.reference}: "
            f"{'PASS' if c.passed else 'FAIL'}   (wall: jax {c.jax_seconds:.2f} s with compile, {c.reference} {c.torch_seconds:.2f} s)")
    tw = max([len("tolerance")] + [len(_tol(r)) for r in c.regimes]) + 2
    lw = max([len("worst leaf")] + [len(r.worst_leaf) for r in c.regimes]) + 2
    lines = [head, f"  {'regime':<15}{'max |Δ|':>10}{'max rel':>10}  {'tolerance':<{tw}}{'ratio':>7}  {'worst leaf':<{lw}}{'step':>6}  result"]
    for r in c.regimes:
        note = r.note
        lines.append(f"  {r.name:<15}{r.max_abs:>10.2e}{r.max_rel:>10.2e}  {_tol(r):<{tw}}{r.ratio:>7.3g}  {r.worst_leaf:<{lw}}"
                     f"{r.worst_step:>6}  {'PASS' if r.passed else 'FAIL'}" + (f"  ({note})" if note else ""))
    for r in c.regimes:
        if not r.passed:
            lines.append(f"  FAIL {r.message}")
    lines += [f"  {line}" for line in c.diagnosis]
    return "\n".join(lines)


def check_plot_path(path: Path) -> None:
    """Fail early (before any run) on a ``--plot`` path that cannot be written."""
    from jaxport.errors import UsageError

    from jaxport import checkpoint

    if not str(path):
        raise UsageError("--plot: expected a .png path, got an empty string")
    if path.suffix.lower() != ".png":
        raise UsageError(f"--plot {path}: expected a .png path")
    checkpoint.writable(path, what="--plot")


def _writable_dir(d: Path) -> bool:
    config = Path(os.environ.get("XDG_CONFIG_HOME") or d / ".config") / "matplotlib"
    probe = config if config.exists() else d
    return probe.is_dir() and os.access(probe, os.W_OK)


def plot(results: Sequence[Comparison], path: Path) -> list[Path]:
    """Write one PNG per comparison (one file when there is one): losses overlaid, |Δloss| on a log axis.

    Each file is written to a temporary name and renamed, so an existing file is only ever replaced
    by a complete one.
    """
    from jaxport import checkpoint

    if "MPLCONFIGDIR" not in os.environ and not _writable_dir(Path.home()):
        # matplotlib would warn that it cannot cache its fonts there, and make a temporary folder itself
        os.environ["MPLCONFIGDIR"] = tempfile.mkdtemp(prefix="jaxport-matplotlib-")
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
        fd, tmp = tempfile.mkstemp(prefix=".jaxport-", suffix=".png", dir=out.parent)
        os.close(fd)
        try:
            os.chmod(tmp, checkpoint.file_mode(out))
            fig.savefig(tmp)
            os.replace(tmp, out)
        finally:
            plt.close(fig)
            if os.path.exists(tmp):
                os.unlink(tmp)
        written.append(out)
    return written


def seeds_text(seeds: Sequence[int]) -> str:
    """Seeds as given on the command line: ``0:50`` for a run of consecutive ones, else ``3,5,8``."""
    seeds = list(seeds)
    if len(seeds) > 1 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}:{seeds[-1] + 1}"
    return ",".join(map(str, seeds[:12])) + (",…" if len(seeds) > 12 else "")


@dataclass
class _Row:
    """One dtype × regime of a sweep: how many runs, how many passed, and the worst one's ratio to its bound."""

    runs: int = 0
    passed: int = 0
    worst: tuple | None = None  # (failed, ratio or -inf, seed, step, ratio)

    def add(self, seed: int, r: RegimeResult) -> None:
        self.runs += 1
        self.passed += r.passed
        v = float(r.ratio)
        key = (not r.passed, -math.inf if math.isnan(v) else v)
        if self.worst is None or key > self.worst[:2]:
            self.worst = (*key, seed, r.worst_step, v)

    @property
    def worst_ratio(self) -> float:
        return math.nan if self.worst is None else self.worst[4]

    @property
    def worst_seed(self) -> int | None:
        """The seed of the worst ratio (of the first failure where no ratio is known; None if neither)."""
        if self.worst is None or (math.isnan(self.worst[4]) and not self.worst[0]):
            return None
        return self.worst[2]

    @property
    def worst_step(self) -> int | None:
        return None if self.worst_seed is None else self.worst[3]


@dataclass
class Sweep:
    """A seed sweep of one example: every (seed, dtype) comparison, summarised per dtype and regime.

    A run that diverged (``jaxport.errors.DivergenceError``) has no comparison: it is kept as a failed
    run with its message (:meth:`add_error`).
    """

    example: Example
    seeds: list[int]
    dtypes: list[str]
    device: str
    entries: list[tuple[int, str, Comparison | None, str]] = field(default_factory=list)  # seed, dtype, comparison, error

    def add(self, seed: int, c: Comparison) -> None:
        self.entries.append((seed, c.dtype, c, ""))

    def add_error(self, seed: int, dtype: str, message: str) -> None:
        self.entries.append((seed, dtype, None, message))

    @property
    def total(self) -> int:
        """Runs finished (or diverged) so far."""
        return len(self.entries)

    @property
    def failed(self) -> int:
        return sum(c is None or not c.passed for _, _, c, _ in self.entries)

    @property
    def planned(self) -> int:
        return len(self.seeds) * len(self.dtypes)

    def rows(self) -> dict[str, dict[str, _Row]]:
        """dtype -> regime -> row, in the sweep's dtype order and each dtype's regime order."""
        out: dict[str, dict[str, _Row]] = {d: {} for d in self.dtypes}
        for seed, dtype, c, _ in self.entries:
            for r in c.regimes if c is not None else ():
                out.setdefault(dtype, {}).setdefault(r.name, _Row()).add(seed, r)
        return out

    def summary(self) -> dict[str, dict[str, dict]]:
        """``{dtype: {regime: {"runs", "passed", "worst_ratio", "worst_seed"}}}`` (a ratio the harness
        does not give yet is None)."""
        return {d: {name: {"runs": row.runs, "passed": row.passed,
                           "worst_ratio": None if math.isnan(row.worst_ratio) else row.worst_ratio,
                           "worst_seed": row.worst_seed}
                    for name, row in regimes.items()}
                for d, regimes in self.rows().items()}

    def as_dict(self, interrupted: bool = False) -> dict:
        """The sweep's JSON document: every run (the comparison's own document, with its seed) and the summary."""
        runs = []
        for seed, dtype, c, error in self.entries:
            if c is not None:
                runs.append({**c.as_dict(), "seed": seed})
            else:
                runs.append({"example": self.example.id, "name": self.example.name, "dtype": dtype, "device": self.device,
                             "passed": False, "regimes": [], "error": error, "seed": seed})
        doc = {"example": self.example.id, "seeds": list(self.seeds), "dtypes": list(self.dtypes), "runs": runs,
               "summary": self.summary()}
        if interrupted:
            doc["interrupted"] = True
        return doc

    def failures(self) -> list[str]:
        """One line per failing (seed, dtype): its first failing regime's message (200 characters)."""
        lines = []
        for seed, dtype, c, error in self.entries:
            if c is None:
                msg, more = error, 0
            elif not c.passed:
                failing = [r for r in c.regimes if not r.passed]
                msg, more = failing[0].message, len(failing) - 1
            else:
                continue
            lines.append(f"  FAIL seed {seed} {dtype}: {msg[:200]}{'…' if len(msg) > 200 else ''}"
                         + (f" [+{more} more failing regime{'s' if more > 1 else ''}]" if more else ""))
        return lines

    def table(self, interrupted: bool = False) -> str:
        """A text table: one row per dtype × regime with runs, passed, pass rate and the worst ratio to
        the bound (its seed and step); then one line per failing (seed, dtype)."""
        ref = next((c.reference for _, _, c, _ in self.entries if c is not None), "reference")
        verdict = "INTERRUPTED" if interrupted else ("PASS" if self.failed == 0 else "FAIL")
        done = f"{self.total - self.failed} of {self.total} comparisons passed"
        if self.total < self.planned:
            done += f", {self.total} of {self.planned} run"
        lines = [f"{self.example.label}  seeds {seeds_text(self.seeds)} ({len(self.seeds)}) × {', '.join(self.dtypes)}  "
                 f"[{self.device}]  JAX vs {ref}: {verdict}   ({done})",
                 f"  {'dtype':<9}{'regime':<16}{'runs':>5}{'passed':>8}{'pass rate':>11}{'worst ratio':>13}{'seed':>6}{'step':>7}"]
        for dtype, regimes in self.rows().items():
            for name, row in regimes.items():
                w = row.worst_ratio
                seed, step = row.worst_seed, row.worst_step
                lines.append(f"  {dtype:<9}{name:<16}{row.runs:>5}{row.passed:>8}{100 * row.passed / row.runs:>10.1f}%"
                             f"{'n/a' if math.isnan(w) else f'{w:.3g}':>13}{'-' if seed is None else seed:>6}"
                             f"{'-' if step is None else step:>7}")
        lines.extend(self.failures())
        return "\n".join(lines)
