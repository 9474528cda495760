"""Study pages: one Markdown page per catalog example, generated from the live source, and an index.

``jaxport docs`` writes ``docs/eNN_name.md`` for every catalog entry and ``docs/index.md``. A page
of an implemented example shows:

* what it teaches (the catalog's idiom) and its module docstring, the seed section it ports;
* what has no equivalent by design, and why: the docstring paragraph that begins
  ``No equivalent by design:`` (the page says so when a module has none);
* the reference (torch, or the seed's NumPy) and the JAX port **side by side**, one table row per
  phase (:data:`PHASES`), every line of both source files (bar the module docstring) exactly once;
* the commands that run it, and its stored parity figures (``docs/parity/eNN.json``, with their
  date, versions and device) and loss-curve plots.

**Phases.** A source file is cut into phases by marker comments, a line holding only
``# phase: NAME`` (any indentation; NAME one of :data:`PHASES`): everything from a marker to the
next one belongs to that phase; code before the first marker is ``setup``. A phase may have several
blocks (a torch loop interleaves model, loss, gradients and update): its cell shows them in file
order, separated by ``# ...``. Every port and reference carries markers; the generator never guesses
a phase from a name (renaming a helper cannot move its code), and a file without any is shown whole
as ``other``.

**Parity figures.** ``jaxport docs --refresh`` runs :func:`jaxport.harness.compare` in float32 and
float64 from the example's default initial values (what ``jaxport compare ID --dtype both`` runs),
stores the documents ``--json`` prints in ``docs/parity/eNN.json`` and the loss curves (training
examples) as ``docs/parity/eNN_float32.png`` / ``_float64.png``. Plain ``jaxport docs`` reruns
nothing: the pages are a pure function of the source files, the catalog and the stored JSON, so
``jaxport docs --check`` (and ``parity_tests/test_docs.py``) can tell a stale page exactly.
"""

import ast
import datetime
import importlib
import importlib.util
import inspect
import json
import os
import platform
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from jaxport import catalog
from jaxport.catalog import Entry
from jaxport.errors import UsageError
from jaxport.tolerances import tolerance_text

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# The rows of a page, in order. "setup": imports, configs, constants; "other": what fits no phase.
PHASES: tuple[str, ...] = ("setup", "data", "model", "loss", "gradients", "update", "report", "other")

PHASE_TITLES = {
    "setup": "setup: imports, settings, constants",
    "data": "data: inputs, targets, draws",
    "model": "model: the forward pass",
    "loss": "loss",
    "gradients": "gradients",
    "update": "update: the optimizer step",
    "report": "report: what the seed prints or returns",
    "other": "other: the spec the harness and CLI read, helpers",
}

_MARKER = re.compile(r"^\s*# phase: (\w+)\s*$")

NO_EQUIVALENT_HEAD = "No equivalent by design:"


@dataclass(frozen=True)
class Source:
    """One module's source, cut into phases."""

    module: str  # dotted name
    path: Path  # the file
    docstring: str  # the module docstring, cleaned
    phases: dict[str, list[str]]  # phase -> its blocks of code, in file order (dedented, no markers)
    marked: bool  # cut by ``# phase:`` markers (False: none, the file is one ``other`` block)

    @property
    def rel(self) -> str:
        """The file's path from the repository root, as a page links it."""
        try:
            return self.path.resolve().relative_to(ROOT).as_posix()
        except ValueError:
            return self.path.name


def _phase(name: str, where: str) -> str:
    if name not in PHASES:
        raise ValueError(f"{where}: unknown phase {name!r} (expected one of {', '.join(PHASES)})")
    return name


def _docstring_span(tree: ast.Module) -> tuple[int, int] | None:
    """1-based first and last line of the module docstring, if any."""
    if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(getattr(tree.body[0], "value", None), ast.Constant) \
            and isinstance(tree.body[0].value.value, str):
        return tree.body[0].lineno, tree.body[0].end_lineno
    return None


def _block(lines: Sequence[str]) -> str:
    """Lines as one dedented block, without leading or trailing blank lines."""
    text = textwrap.dedent("\n".join(lines)).strip("\n")
    return "\n".join(line.rstrip() for line in text.splitlines())


def read_source(module: str) -> Source:
    """Read a module's file (without importing it) and cut it into phases."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise UsageError(f"no module {module}")
    path = Path(spec.origin)
    text = path.read_text()
    tree = ast.parse(text)
    lines = text.splitlines()
    span = _docstring_span(tree)
    docstring = inspect.cleandoc(tree.body[0].value.value) if span else ""
    start = span[1] if span else 0  # 0-based index of the first line after the docstring
    phases: dict[str, list[str]] = {}

    def add(phase: str, chunk: Sequence[str]) -> None:
        block = _block(chunk)
        if block:
            phases.setdefault(phase, []).append(block)

    marked = any(_MARKER.match(line) for line in lines[start:])
    phase, chunk = ("setup" if marked else "other"), []
    for i, line in enumerate(lines[start:], start + 1):
        m = _MARKER.match(line)
        if m:
            add(phase, chunk)
            phase, chunk = _phase(m.group(1), f"{path.name}:{i}"), []
        else:
            chunk.append(line)
    add(phase, chunk)
    return Source(module, path, docstring, phases, marked)


def split_docstring(doc: str) -> tuple[str, str]:
    """The docstring without its first line and its ``No equivalent by design:`` paragraph, and that paragraph."""
    paras = re.split(r"\n\s*\n", doc.strip())
    body = paras[1:]  # the first is the title line ("E03 polynomial_autograd — seed 000, ...")
    keep, none = [], ""
    for p in body:
        if p.startswith(NO_EQUIVALENT_HEAD):
            none = " ".join(p[len(NO_EQUIVALENT_HEAD):].split())
        else:
            keep.append(p)
    return "\n\n".join(keep), none


def _rst_to_md(text: str) -> str:
    """The docstrings' reStructuredText, as Markdown: ``x`` -> `x`, :func:`f` -> `f`, ``::`` blocks fenced."""
    out = []
    for para in re.split(r"\n\s*\n", text):
        if para.startswith("    ") and out and out[-1].endswith("::"):
            out[-1] = out[-1][:-1]  # "as follows::" -> "as follows:"
            out.append("```python\n" + textwrap.dedent(para) + "\n```")
            continue
        para = re.sub(r":(?:func|mod|class|data|meth|attr):`~?([^`]+)`", r"`\1`", para)
        para = re.sub(r"``([^`]+)``", r"`\1`", para)
        out.append(" ".join(para.split()) if not para.startswith(("- ", "* ")) else para)
    return "\n\n".join(out)


# -- the parity figures ---------------------------------------------------------------------------


def parity_path(e: Entry, docs: Path = DOCS) -> Path:
    return docs / "parity" / f"{e.id.lower()}.json"


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("jax", "jaxlib", "flax", "optax", "torch", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _device_line(device: str) -> str:
    from jaxport import training

    d = training.jax_device(device)
    cpu = platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    kind = "" if d.device_kind == d.platform else f" ({d.device_kind})"
    return f"{d.platform}{kind}; host {platform.system()}, {cpu}, {os.cpu_count()} cores"


def refresh(examples: Iterable, *, device: str = "cpu", docs: Path = DOCS,
            say=print) -> list[Path]:
    """Run every comparison of ``examples`` (float32 and float64) and store its figures and plots.

    Writes ``docs/parity/eNN.json``: ``{"generated", "command", "device", "versions",
    "comparisons": [the documents \\`jaxport compare --json\\` prints]}``, and for a training example
    ``eNN_float32.png`` / ``eNN_float64.png`` (:func:`jaxport.report.plot`). Returns the paths written.
    """
    from jaxport import harness, report

    out_dir = docs / "parity"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for example in examples:
        e = catalog.entry(example.id)
        results, plots = [], []
        for dtype in ("float32", "float64"):
            c = harness.compare(example, example.init(None), dtype=dtype, device=device)
            results.append(c)
            say(report.table(c))
            if len(c.ref_losses):
                png = out_dir / f"{e.id.lower()}_{dtype}.png"
                written += report.plot([c], png)
                plots.append(png.name)
        doc = {
            "example": e.id,
            "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": f"jaxport compare {e.id} --dtype both --device {device} --json",
            "device": _device_line(device),
            "versions": _versions(),
            "comparisons": [c.as_dict() for c in results],
            "plots": plots,
        }
        path = parity_path(e, docs)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(doc, indent=1) + "\n")
        tmp.replace(path)
        written.append(path)
    return written


def load_parity(e: Entry, docs: Path = DOCS) -> dict | None:
    """The stored figures of an example, or None when there are none (or they cannot be read)."""
    path = parity_path(e, docs)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _status(doc: dict | None) -> str:
    if doc is None:
        return "no stored figures"
    return ", ".join(f"{c['dtype']} {'PASS' if c['passed'] else 'FAIL'}" for c in doc["comparisons"])


# -- the pages --------------------------------------------------------------------------------------


def page_name(e: Entry) -> str:
    return f"{e.id.lower()}_{e.name}.md"


def _fence(code: str) -> str:
    ticks = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", code)), default=0))
    return f"{ticks}python\n{code}\n{ticks}"


def _cell(src: Source, phase: str) -> str:
    blocks = src.phases.get(phase)
    if not blocks:
        return "<td>\n\n*(nothing in this phase)*\n\n</td>"
    return "<td>\n\n" + _fence("\n# ...\n".join(blocks)) + "\n\n</td>"


def side_by_side(ref: Source, jax_src: Source, ref_label: str) -> str:
    """The two sources as an HTML table: one row per phase either side has, reference left, JAX right."""
    rows = ["<table>", f'<tr><th width="50%">{ref_label}: <a href="../{ref.rel}"><code>{ref.path.parent.name}/{ref.path.name}</code></a></th>'
            f'<th width="50%">JAX: <a href="../{jax_src.rel}"><code>{jax_src.path.parent.name}/{jax_src.path.name}</code></a></th></tr>']
    for phase in PHASES:
        if phase not in ref.phases and phase not in jax_src.phases:
            continue
        rows.append(f'<tr><td colspan="2"><b>{PHASE_TITLES[phase]}</b></td></tr>')
        rows.append("<tr>\n" + _cell(ref, phase) + "\n" + _cell(jax_src, phase) + "\n</tr>")
    rows.append("</table>")
    return "\n".join(rows)


def _fmt(v: float) -> str:
    return f"{v:.2e}" if isinstance(v, (int, float)) else str(v)


def parity_section(e: Entry, doc: dict | None) -> str:
    """The stored figures as Markdown: one table per dtype, with their date, versions and device."""
    if doc is None:
        return (f"No parity figures are stored for {e.id} yet: `jaxport docs --refresh {e.id}` runs the "
                f"comparisons and writes `docs/parity/{e.id.lower()}.json`.")
    v = doc["versions"]
    out = [f"Stored figures: generated {doc['generated']} by `{doc['command']}` (via `jaxport docs --refresh`), "
           f"device {doc['device']}; " + ", ".join(f"{k} {v[k]}" for k in v) + "."]
    for c in doc["comparisons"]:
        out.append(f"\n**{c['dtype']}**, JAX vs {c['reference']}: **{'PASS' if c['passed'] else 'FAIL'}** "
                   f"(wall: jax {c['jax_seconds']:.2f} s with compile, {c['reference']} {c['torch_seconds']:.2f} s)\n")
        out.append("| regime | max \\|Δ\\| | max rel | tolerance | worst leaf | step | result |")
        out.append("|---|---|---|---|---|---|---|")
        for r in c["regimes"]:
            out.append(f"| {r['name']} | {_fmt(r['max_abs'])} | {_fmt(r['max_rel'])} | {tolerance_text(r['tolerance'])} | "
                       f"`{r['worst_leaf']}` | {r['worst_step']} | {'PASS' if r['passed'] else 'FAIL'} |")
    for png in doc.get("plots", []):
        out.append(f"\n![{e.id} loss curves: {png}](parity/{png})")
    if not doc.get("plots"):
        out.append("\nNo loss curve: this example computes values, it has no training loop.")
    return "\n".join(out)


def _nav(e: Entry) -> str:
    i = [x.id for x in catalog.CATALOG].index(e.id)
    parts = ["[index](index.md)"]
    if i > 0:
        p = catalog.CATALOG[i - 1]
        parts.insert(0, f"← [{p.id} {p.name}]({page_name(p)})")
    if i + 1 < len(catalog.CATALOG):
        n = catalog.CATALOG[i + 1]
        parts.append(f"[{n.id} {n.name}]({page_name(n)}) →")
    return " · ".join(parts)


_HEADER = "<!-- generated by `jaxport docs` from the source: do not edit by hand -->"


def _script(e: Entry) -> str:
    return f"examples/{e.id.lower()}_{e.name}.py"


def page(e: Entry, docs: Path = DOCS) -> str:
    """The study page of one catalog entry, as Markdown."""
    head = [_HEADER, f"# {e.id} {e.name}", "", _nav(e), "",
            f"Seed {e.seed}, section “{e.section}”. JAX idiom: {e.idiom}.", ""]
    if not catalog.is_implemented(e):
        return "\n".join(head + [
            f"**Not implemented yet.** {e.id} is in the catalog (`jaxport list`) but has no JAX port "
            f"(`jaxport/examples/{e.id.lower()}_{e.name}/port.py`) yet; this page will show its PyTorch reference and "
            "JAX port side by side once it lands (`jaxport docs` regenerates it).", ""])
    try:
        example = catalog.load(e.id)
        ref_mod = importlib.import_module(example.reference)
    except Exception as err:  # a port being written: the page says so instead of failing every page
        return "\n".join(head + [f"**Not importable yet.** `{e.module}` exists but does not load "
                                  f"({type(err).__name__}); `jaxport docs` will show it once it does.", ""])
    jax_src = read_source(e.module)
    ref = read_source(example.reference)
    ref_label = {"torch": "PyTorch", "numpy": "NumPy (the seed's)"}.get(ref_mod.FRAMEWORK, ref_mod.FRAMEWORK)
    about, none = split_docstring(jax_src.docstring)
    ref_about, _ = split_docstring(ref.docstring)
    kind = "a training loop" if example.kind == "training" else "values (no training loop)"
    body = [
        "## The idea", "", f"**Teaches:** {e.idiom}.", "", _rst_to_md(about), "",
        "## No equivalent by design", "",
        _rst_to_md(none) if none else "*(the module's docstring has no “No equivalent by design:” paragraph)*", "",
        "## Run it", "",
        "```bash",
        f"jaxport run {e.id}                       # the JAX port, printing the seed's lines",
        f"jaxport run {e.id} --framework {ref_mod.FRAMEWORK}     # the reference",
        f"python {_script(e)}",
        f"jaxport compare {e.id} --dtype both --json --plot {e.id.lower()}.png   # parity, and the loss curves",
        "```", "",
        f"Kind: {kind}. Seed settings: `{example.config!r}`.", "",
        "## Side by side", "",
        f"Every line of both files but their docstrings, cut into phases by their `# phase:` markers "
        f"(see `jaxport/docs.py`). "
        f"The reference, as its docstring says: {_rst_to_md(ref_about) or '(no notes)'}", "",
        side_by_side(ref, jax_src, ref_label), "",
        "## Parity", "",
        parity_section(e, load_parity(e, docs)), "",
    ]
    return "\n".join(head + body)


def index(docs: Path = DOCS) -> str:
    """``docs/index.md``: the catalog with links, what each example teaches and its stored parity status."""
    rows = [_HEADER, "# jaxport study pages", "",
            "One page per catalog example: the PyTorch reference and the JAX port side by side, phase by phase "
            "(setup, data, model, loss, gradients, update, report), the one idea it teaches, what has no "
            "equivalent by design, the command that runs it and its latest parity figures. Generated by "
            "`jaxport docs` from the source files (`jaxport docs --refresh` reruns the comparisons); see the "
            "[README](../README.md) for the torch → JAX idiom map.", "",
            "| id | example | seed section | teaches | parity (stored) |", "|---|---|---|---|---|"]
    for e in catalog.CATALOG:
        link = f"[{e.name}]({page_name(e)})"
        status = _status(load_parity(e, docs)) if catalog.is_implemented(e) else "not implemented yet"
        rows.append(f"| {e.id} | {link} | {e.seed[:3]}: {e.section} | {e.idiom} | {status} |")
    return "\n".join(rows) + "\n"


def generate(docs: Path = DOCS) -> dict[Path, str]:
    """Every page's path and its content now (nothing written)."""
    out = {docs / "index.md": index(docs)}
    for e in catalog.CATALOG:
        out[docs / page_name(e)] = page(e, docs)
    return out


def write(docs: Path = DOCS) -> list[Path]:
    """Regenerate every page; returns the paths whose content changed."""
    docs.mkdir(parents=True, exist_ok=True)
    changed = []
    for path, text in generate(docs).items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(path)
    return changed


def stale(docs: Path = DOCS) -> list[Path]:
    """The pages that differ from what :func:`generate` gives now (missing ones included)."""
    return [path for path, text in generate(docs).items() if not path.exists() or path.read_text() != text]
