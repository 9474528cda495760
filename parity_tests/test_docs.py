"""The study pages (docs/): committed pages equal what `jaxport docs` generates now, and show what they promise.

Every test reads the committed docs/ or a copy of it in a temporary directory; none writes to docs/.
"""

import ast
import json
import shutil
from pathlib import Path

import pytest

from jaxport import catalog, docs
from jaxport.cli import main

IMPLEMENTED = [e for e in catalog.CATALOG if catalog.is_implemented(e)]


def _code_lines(module: str) -> list[str]:
    """The stripped, non-blank lines of a module's file, without its docstring and phase markers."""
    src = docs.read_source(module)
    text = src.path.read_text()
    tree = ast.parse(text)
    start = tree.body[0].end_lineno if docs._docstring_span(tree) else 0
    return [line.strip() for line in text.splitlines()[start:]
            if line.strip() and not docs._MARKER.match(line)]


@pytest.fixture
def docs_copy(tmp_path) -> Path:
    """A copy of the committed docs/ to modify."""
    out = tmp_path / "docs"
    shutil.copytree(docs.DOCS, out)
    return out


def test_committed_pages_are_fresh():
    bad = docs.stale()
    assert not bad, f"stale study pages (run `jaxport docs`): {[p.name for p in bad]}"


def test_one_page_per_catalog_entry_and_an_index():
    pages = docs.generate()
    assert set(pages) == {docs.DOCS / "index.md"} | {docs.DOCS / docs.page_name(e) for e in catalog.CATALOG}
    index = pages[docs.DOCS / "index.md"]
    for e in catalog.CATALOG:
        assert f"[{e.name}]({docs.page_name(e)})" in index


@pytest.mark.parametrize("e", IMPLEMENTED, ids=lambda e: e.id)
def test_page_shows_both_sources_side_by_side(e):
    text = docs.page(e)
    example = catalog.load(e.id)
    table = text[text.index("<table>"):text.index("</table>")]
    # every line of both files (bar docstrings and markers) is in the side-by-side table
    for module in (e.module, example.reference):
        missing = [line for line in _code_lines(module) if line not in table]
        assert not missing, f"{module}: lines missing from {docs.page_name(e)}: {missing[:3]}"
    # two code columns per phase row, reference first
    assert table.count("<td>\n\n") >= 4
    ref_name, jax_name = Path(docs.read_source(example.reference).path).name, Path(docs.read_source(e.module).path).name
    assert table.index(ref_name) < table.index(jax_name)
    assert f"**Teaches:** {e.idiom}" in text
    assert f"jaxport run {e.id}" in text and f"jaxport compare {e.id}" in text


@pytest.mark.parametrize("e", [e for e in IMPLEMENTED if docs.load_parity(e) is not None], ids=lambda e: e.id)
def test_page_shows_its_stored_parity_figures(e):
    text = docs.page(e)
    doc = docs.load_parity(e)
    assert doc["generated"] in text and doc["device"] in text and doc["versions"]["jax"] in text
    for c in doc["comparisons"]:
        assert f"**{c['dtype']}**, JAX vs {c['reference']}: **{'PASS' if c['passed'] else 'FAIL'}**" in text
        for r in c["regimes"]:
            assert f"| {r['name']} | {docs._fmt(r['max_abs'])} | {docs._fmt(r['max_rel'])} |" in text
    for png in doc["plots"]:
        assert f"](parity/{png})" in text


def test_examples_with_a_port_before_this_test_have_stored_figures():
    # E17, E19-E21 may land after the figures were stored; every other port has them
    later = {"E17", "E19", "E20", "E21"}
    missing = [e.id for e in IMPLEMENTED if e.id not in later and docs.load_parity(e) is None]
    assert not missing, f"no docs/parity/*.json for {missing}: run `jaxport docs --refresh {' '.join(missing)}`"


def test_no_equivalent_paragraph_is_on_the_page():
    e = catalog.entry("E03")
    _, none = docs.split_docstring(docs.read_source(e.module).docstring)
    assert "requires_grad" in none
    assert docs._rst_to_md(none) in docs.page(e)


def test_missing_figures_say_so(docs_copy):
    e = catalog.entry("E03")
    docs.parity_path(e, docs_copy).unlink()
    text = docs.page(e, docs_copy)
    assert "No parity figures are stored for E03 yet" in text and "jaxport docs --refresh E03" in text
    assert "E03 | [polynomial_autograd]" in docs.index(docs_copy) and "no stored figures" in docs.index(docs_copy)


def test_unimplemented_page_says_so(monkeypatch):
    """Every example is implemented now; an entry without its module (as E20 was) gets a page that says so."""
    monkeypatch.setattr(catalog, "is_implemented", lambda e: e.id != "E20")
    e = catalog.entry("E20")
    text = docs.page(e)
    assert "**Not implemented yet.**" in text and "<table>" not in text
    assert "not implemented yet" in docs.index()


def test_a_port_not_there_yet_says_so(monkeypatch):
    # whatever is implemented today: a page for an entry without its module says "not implemented yet"
    monkeypatch.setattr(catalog, "is_implemented", lambda e: e.id != "E03")
    e = catalog.entry("E03")
    assert "**Not implemented yet.**" in docs.page(e) and "<table>" not in docs.page(e)
    assert "| E03 | [polynomial_autograd](e03_polynomial_autograd.md) |" in docs.index()
    assert "not implemented yet" in docs.index()


def test_markers_cut_phases_and_no_name_is_guessed(tmp_path, monkeypatch):
    (tmp_path / "marked_mod.py").write_text('"""Doc."""\nimport x\n\n# phase: data\nd = 1\n# phase: loss\nl = 2\n'
                                            '# phase: data\ne = 3\n')
    (tmp_path / "plain_mod.py").write_text('"""Doc."""\nimport x\n\ndef make_data():\n    pass\n\nloss_and_grad = 1\n')
    (tmp_path / "bad_mod.py").write_text('"""Doc."""\n# phase: training\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    m = docs.read_source("marked_mod")
    assert m.marked and m.phases == {"setup": ["import x"], "data": ["d = 1", "e = 3"], "loss": ["l = 2"]}
    f = docs.read_source("plain_mod")  # no markers: one block, whatever its names say
    assert not f.marked and f.phases == {"other": ["import x\n\ndef make_data():\n    pass\n\nloss_and_grad = 1"]}
    with pytest.raises(ValueError, match="unknown phase 'training'"):
        docs.read_source("bad_mod")


def test_every_port_and_reference_is_marked():
    for e in catalog.CATALOG:
        for module in (e.module, e.reference):
            assert docs.read_source(module).marked, f"{module} has no '# phase:' markers"


# -- the CLI ----------------------------------------------------------------------------------------


def test_cli_check_passes_on_the_committed_pages(capsys):
    assert main(["docs", "--check"]) == 0
    assert "0 stale" in capsys.readouterr().out


def test_cli_check_names_a_stale_page_and_docs_fixes_it(docs_copy, capsys):
    page = docs_copy / "e03_polynomial_autograd.md"
    page.write_text(page.read_text() + "hand edit\n")
    (docs_copy / "index.md").unlink()
    assert main(["docs", "--check", "--dir", str(docs_copy)]) == 1
    err = capsys.readouterr().err
    assert "e03_polynomial_autograd.md" in err and "index.md" in err and "e05_polynomial_nn.md" not in err
    assert main(["docs", "--dir", str(docs_copy)]) == 0
    assert "2 pages changed" in capsys.readouterr().out
    assert main(["docs", "--check", "--dir", str(docs_copy)]) == 0
    assert page.read_text() == (docs.DOCS / page.name).read_text()


def test_cli_refresh_stores_figures_for_one_example(docs_copy, capsys):
    assert main(["docs", "--refresh", "E11", "--dir", str(docs_copy)]) == 0
    doc = json.loads((docs_copy / "parity" / "e11.json").read_text())
    assert doc["example"] == "E11" and [c["dtype"] for c in doc["comparisons"]] == ["float32", "float64"]
    assert all(c["passed"] for c in doc["comparisons"]) and doc["plots"] == []  # a values example: no curve
    assert doc["generated"] in (docs_copy / "e11_computation_graph.md").read_text()


@pytest.mark.parametrize("argv, needle", [
    (["docs", "E03"], "only with --refresh"),
    (["docs", "--check", "--refresh"], "--check writes nothing"),
    (["docs", "--refresh", "E99"], "unknown example 'E99'"),
    (["docs", "--dir", "/no/such/dir"], "no such directory"),
    (["docs", "--device", "gpu"], "only applies with --refresh"),
])
def test_cli_bad_input_is_one_line_and_exit_2(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("jaxport: error:") and needle in err[0], err


def test_readme_links_the_index_and_carries_the_idiom_map():
    readme = (docs.ROOT / "README.md").read_text()
    assert "(docs/index.md)" in readme and "jaxport docs --refresh" in readme
    idioms = readme[readme.index("## torch → JAX idiom map"):]
    idioms = idioms[:idioms.index("\n## ", 1)]
    for torch_side, jax_side in [
        ("`requires_grad=True`", "choose what to differentiate"), ("backward()", "jax.grad"),
        ("zero_grad()", "nothing to zero"), ("`no_grad`", "stop_gradient"), ("`torch.autograd.Function`", "custom_vjp"),
        ("`nn.Module`", "nnx.split"), ("`optimizer.step()`", "tx.update"), ("`manual_seed`", "jax.random` keys"),
        ("`register_hook`", "an identity with a `custom_vjp`"), ("`state_dict`", "jaxport.convert"),
        ("DataLoader `shuffle=True`", "a keyed permutation"),
    ]:
        rows = [line for line in idioms.splitlines() if line.startswith("| ") and torch_side in line.split(" | ")[0]]
        assert any(jax_side in r for r in rows), (torch_side, jax_side)
