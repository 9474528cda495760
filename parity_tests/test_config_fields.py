"""Every config field can be changed for a run, and the run still compares (issue 13).

The training state, the update and the step take the config, so a field that changes what the state
holds (``momentum=0.0``: SGD keeps no momentum buffer; ``optimizer="adamw"``) or what the data is
(``batch_size``, ``seed``) is carried through both frameworks. Each case below changes one field of
one training example to another valid value and runs ``harness.compare`` in float64 for a few steps:
it must PASS, not crash and not FAIL a correct port. Files (``orders_file``, ``data_dir``) have tests
of their own; ``dtype`` is every other test's subject.
"""

import dataclasses

import pytest

from jaxport import catalog, harness

# field -> a valid value other than the seed's, for every training example that has the field
CHANGED = {
    "steps": 3, "lr": 0.5, "print_every": 2, "print_offset": 1, "momentum": 0.0, "seed": 1,
    "betas": (0.8, 0.99), "eps": 1e-6, "k": 3, "alpha": 0.7, "epochs": 1, "optimizer": "adamw",
    "weight_decay": 0.1, "data_seed": 1, "pretrained_seed": 1, "num_examples": 96,
    "digits_images": 200,
}
SIZES = {"batch_size": {"E17": 32, "E21": 2, "E28": 2}, "batch": {"E20": 2}}  # sizes that divide the data
STEPS = {"E08": 50, "E17": 10, "E20": 2, "E21": 10}  # few steps: what is checked is that the field reaches both sides
SLOW = {"E17", "E20", "E21"}  # conv/ResNet/784-wide steps: their optimizer fields run by default, the rest marked slow
OWN_TESTS = {"dtype", "orders_file", "data_dir"}


def _cases():
    for e in catalog.CATALOG:
        example = catalog.load(e.id)
        if example.kind != "training":
            continue
        for f in dataclasses.fields(example.config):
            if f.name in OWN_TESTS:
                continue
            value = SIZES[f.name][e.id] if f.name in SIZES else CHANGED[f.name]
            if f.name == "lr":
                value = example.config.lr * 0.5  # half the seed's rate: it still converges
            slow = e.id in SLOW and f.name not in ("momentum", "optimizer", "betas")
            yield pytest.param(e.id, f.name, value, id=f"{e.id}-{f.name}", marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize("example_id, field, value", list(_cases()))
def test_a_changed_field_reaches_both_frameworks(example_id, field, value):
    example = catalog.load(example_id)
    assert getattr(example.config, field) != value, "the case must change the field"
    steps = value if field == "steps" else STEPS.get(example_id, 20)
    overrides = {field: value} if field == "steps" else {field: value, "steps": steps}
    if field == "epochs":
        overrides.pop("steps")  # E17 derives its steps from the epochs
    c = harness.compare(example, example.init(), dtype="float64", **overrides)
    assert c.passed, f"{example.label} with {field}={value!r}:\n" + "\n".join(r.message for r in c.regimes if not r.passed)


def test_every_field_of_every_training_example_has_a_case():
    """A new config field must get a value here (or be one with a test of its own)."""
    for e in catalog.CATALOG:
        example = catalog.load(e.id)
        if example.kind == "training":
            for f in dataclasses.fields(example.config):
                assert f.name in OWN_TESTS or f.name in CHANGED or e.id in SIZES.get(f.name, {}), (e.id, f.name)
