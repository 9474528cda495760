"""E28: the seed's dummy dataloader and training loop — the shuffle as data, the run as one scan, torch replaying the order."""

import dataclasses
import json
import random

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxport import params, training
from jaxport.cli import main
from jaxport.examples.e28_dummy_dataloader_training import port as e28
from jaxport.examples.e28_dummy_dataloader_training import reference as ref

from _helpers import assert_parity

KEYS = tuple(e28.SHAPES)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e28.EXAMPLE, dtype, device)


def test_parity_other_shuffle_and_init(device):
    assert_parity(e28.EXAMPLE, "float64", device, seed=7)


def _seed_train(model, dataloader, epochs=10):
    """The seed's train(), verbatim but for recording which batch each step used and its loss."""
    from random import shuffle

    seen, losses = [], []
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01)
    for epoch in range(epochs):
        shuffle(dataloader)
        for batch in dataloader:
            features, labels = batch
            seen.append(batch)
            prediction = model(features)
            loss = torch.nn.functional.mse_loss(prediction, labels)
            losses.append(loss.item())
            loss.backward()
            optimiser.step()
            optimiser.zero_grad()
    return seen, losses


def test_the_seeds_own_shuffle_after_random_seed_is_the_drawn_order():
    """With random.seed(S), the seed's unchanged train() visits the batches in exactly the order
    draw_orders(S) hands both frameworks, and reaches the same losses as the reference, bit for bit."""
    cfg = dataclasses.replace(e28.CONFIG, seed=11, dtype="float64")
    data = e28.make_data(cfg)
    p = params.cast(e28.EXAMPLE.init(), "float64")
    X, y = torch.tensor(data["X"]), torch.tensor(data["y"])
    dataloader = ref.create_dummy_dataloader(X, y)
    index = {id(b): i for i, b in enumerate(dataloader)}
    model = ref.PyTorchLinearRegression(4, 1).double()
    model.load_state_dict({k: torch.tensor(v) for k, v in p.items()}, strict=True)
    state = random.getstate()
    try:
        random.seed(11)
        seen, losses = _seed_train(model, dataloader)
    finally:
        random.setstate(state)
    assert [index[id(b)] for b in seen] == data["order"].tolist()
    run = ref.train(p, data, cfg)
    np.testing.assert_array_equal(run.losses, np.array(losses))


def test_batches_follow_the_seeds_rule():
    """100 examples in batches of 4: 25 batches of 4, the same rows as torch's dataloader. The rule's
    quirk: its else branch only fires on an exact fit, so 10 examples give two batches of 4 and
    rows 8 and 9 are never used (in the seed's code and here alike)."""
    data = e28.make_data(e28.CONFIG)
    loader = ref.create_dummy_dataloader(torch.tensor(data["X"]), torch.tensor(data["y"]))
    assert data["X_batches"].shape == (25, 4, 4) and data["y_batches"].shape == (25, 4, 1)
    for i, (features, labels) in enumerate(loader):
        np.testing.assert_array_equal(data["X_batches"][i], features.numpy())
        np.testing.assert_array_equal(data["y_batches"][i], labels.numpy())
    ten = np.arange(40.0).reshape(10, 4)
    ours = e28.create_batches(ten, 4)
    theirs = [b for b, _ in ref.create_dummy_dataloader(torch.tensor(ten), torch.tensor(ten[:, :1]))]
    assert [len(b) for b in ours] == [len(b) for b in theirs] == [4, 4]
    assert np.concatenate(ours).tolist() == ten[:8].tolist()
    small = e28.make_data(dataclasses.replace(e28.CONFIG, num_examples=10))
    assert small["X_batches"].shape == (2, 4, 4) and set(small["order"].tolist()) == {0, 1}


def test_every_epoch_is_a_fresh_permutation():
    orders = e28.draw_orders(0, 250, 25).reshape(10, 25)
    assert all(sorted(o) == list(range(25)) for o in orders)
    assert len({tuple(o) for o in orders}) == 10
    assert not np.array_equal(e28.draw_orders(1, 250, 25), e28.draw_orders(0, 250, 25))
    assert e28.draw_orders(0, 60, 25).tolist() == e28.draw_orders(0, 250, 25)[:60].tolist()  # --steps cuts the same draw


def _state(dtype="float64"):
    return {k: jnp.asarray(v) for k, v in params.cast(e28.EXAMPLE.init(), dtype).items()}


def test_the_order_matters_so_it_must_be_replayed():
    """Another shuffle, same data and init: other parameters after 10 epochs (why torch must get the same order)."""
    cfg = dataclasses.replace(e28.CONFIG, dtype="float64")
    runs = []
    for seed in (0, 1):
        c = dataclasses.replace(cfg, seed=seed)
        d = jax.device_put(e28.make_data(c))
        p, _ = training.scan_steps(e28.EXAMPLE.train_step, c, _state(), d, jnp.int32(0), c.steps, True)
        runs.append(p)
    assert not np.allclose(np.asarray(runs[0]["linear_layer.weight"]), np.asarray(runs[1]["linear_layer.weight"]), rtol=1e-6)


def test_the_epoch_is_one_compiled_scan():
    """The whole run is a lax.scan (no host round trip per batch); ten one-epoch scans of 25 steps give
    the same result as one scan of 250, and as stepping eagerly batch by batch."""
    cfg = dataclasses.replace(e28.CONFIG, dtype="float64")
    d = jax.device_put(e28.make_data(cfg))
    whole, aux = training.scan_steps(e28.EXAMPLE.train_step, cfg, _state(), d, jnp.int32(0), cfg.steps, True)
    epoch = str(jax.make_jaxpr(lambda s: training.scan_steps(e28.EXAMPLE.train_step, cfg, s, d, jnp.int32(0), 25, True))(_state()))
    assert "= scan[" in epoch and "length=25" in epoch and "callback" not in epoch  # one epoch: one scan, no host calls
    s = _state()
    for epoch in range(10):
        s, _ = training.scan_steps(e28.EXAMPLE.train_step, cfg, s, d, jnp.int32(25 * epoch), 25, True)
    for k in KEYS:
        np.testing.assert_array_equal(np.asarray(s[k]), np.asarray(whole[k]), err_msg=k)
    step = jax.jit(e28.EXAMPLE.train_step, static_argnums=3)
    s = _state()
    for t in range(cfg.steps):
        s, _ = step(s, d, jnp.int32(t), cfg)
    for k in KEYS:
        np.testing.assert_allclose(np.asarray(s[k]), np.asarray(whole[k]), rtol=1e-14, err_msg=k)


def test_seed_drives_shuffle_and_init_in_both_frameworks(capsys):
    docs = []
    for fw in ("jax", "torch"):
        assert main(["run", "E28", "--seed", "3", "--framework", fw, "--dtype", "float64", "--json"]) == 0
        docs.append(json.loads(capsys.readouterr().out))
    assert docs[0]["steps"] == docs[1]["steps"] == 250
    for k in KEYS:
        np.testing.assert_allclose(docs[0]["params"][k], docs[1]["params"][k], rtol=1e-13)


def test_prints_the_seeds_lines(capsys):
    assert main(["run", "E28"]) == 0
    out = capsys.readouterr().out
    lines = out.split("\n")
    assert sum(line.startswith("Loss: ") for line in lines) == 10  # one per epoch
    assert out.startswith("Loss: ") and "\n\nLoss: " in out  # print("Loss:", loss.item()); print()
