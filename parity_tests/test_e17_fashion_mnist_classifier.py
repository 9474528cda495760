"""E17: the seed's Fashion-MNIST Classifier — the shuffle replayed, the partial batch masked, the run one scan."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxport import harness, params, training
from jaxport.cli import main
from jaxport.errors import UsageError
from jaxport.reference import ReplaySampler, replay_epochs
from jaxport.examples.e17_fashion_mnist_classifier import port as e17
from jaxport.examples.e17_fashion_mnist_classifier import reference as ref

from _helpers import assert_parity
from test_datasets_idx import write_fashion_mnist

KEYS = e17.NAMES
CFG64 = dataclasses.replace(e17.CONFIG, dtype="float64")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e17.EXAMPLE, dtype, device)


@pytest.mark.slow
def test_parity_other_shuffle_cut_mid_epoch(device):
    assert_parity(e17.EXAMPLE, "float64", device, seed=7, steps=30)  # 1¼ epochs: the partial batch at step 23


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity_with_adamw(dtype, device):
    """``--set optimizer=adamw``: torch.optim.AdamW against optim.adamw (decoupled weight decay), every regime."""
    c = harness.compare(e17.EXAMPLE, e17.EXAMPLE.init(), dtype=dtype, device=device, steps=10, optimizer="adamw")
    failures = [r.message for r in c.regimes if not r.passed]
    assert not failures, "\n".join(failures)
    assert {r.name for r in c.regimes} >= {"same_point", "teacher_forced", "free_running"}


def test_the_optimizer_choice():
    """"adam" (the seed's) or "adamw", the same state leaves; AdamW's decay moves the weights in both
    frameworks; any other name is refused naming the field, by the config and on the command line."""
    cfg = dataclasses.replace(CFG64, steps=3)
    cfg_w = dataclasses.replace(cfg, optimizer="adamw", weight_decay=0.5)  # a large decay: far above rounding
    p = params.cast(e17.EXAMPLE.init(), "float64")
    assert e17.CONFIG.optimizer == "adam" and e17.CONFIG.weight_decay == 0.01  # torch.optim.AdamW's default
    data = e17.make_data(cfg)
    runs = {c.optimizer: (training.train(e17.EXAMPLE, p, c).params, ref.train(p, data, c, record=True)) for c in (cfg, cfg_w)}
    recorded = runs["adamw"][1].states  # torch's AdamW state, as the harness sees it: JAX's leaves and shapes
    ours = e17.EXAMPLE.state(p, cfg_w)
    assert set(recorded) == set(ours) - {"running_loss"}  # running_loss: JAX's own bookkeeping of the seed's float
    assert all(recorded[k].shape[1:] == np.shape(ours[k]) for k in recorded)
    runs = {o: (j, r.params) for o, (j, r) in runs.items()}
    for k in KEYS:
        jax_adam, torch_adam = runs["adam"][0][k], runs["adam"][1][k]
        jax_adamw, torch_adamw = runs["adamw"][0][k], runs["adamw"][1][k]
        np.testing.assert_allclose(jax_adamw, torch_adamw, rtol=1e-12, atol=1e-15, err_msg=k)
        if k.endswith("weight"):  # the decay: p *= 1 - lr*wd each step, on top of the same Adam step
            assert not np.allclose(jax_adamw, jax_adam, rtol=1e-9, atol=0) and not np.allclose(torch_adamw, torch_adam, rtol=1e-9, atol=0)
    with pytest.raises(UsageError, match="'optimizer' is 'sgd', expected one of 'adam', 'adamw'"):
        dataclasses.replace(e17.CONFIG, optimizer="sgd")
    assert main(["compare", "E17", "--set", "optimizer=sgd"]) == 2


def test_config_follows_the_data(tmp_path):
    """5 epochs × len(trainloader): 24 batches of the 1500 digits; derived again when the data changes,
    an explicit step count kept as given (even one equal to the old derived count)."""
    assert (e17.CONFIG.steps, e17.CONFIG.print_every) == (120, 24)
    write_fashion_mnist(tmp_path, 130)  # 3 batches: 64, 64, 2
    fm = dataclasses.replace(e17.CONFIG, data_dir=str(tmp_path))
    assert (fm.steps, fm.print_every) == (15, 3)
    assert dataclasses.replace(e17.CONFIG, data_dir=str(tmp_path), steps=120).steps == 120
    assert dataclasses.replace(fm, dtype="float64").steps == 15
    assert dataclasses.replace(e17.CONFIG, epochs=2).steps == 48
    assert dataclasses.replace(fm, data_dir=None).steps == 120


def test_default_init_is_the_seeds():
    """``bias.data.fill_(0)``, ``weight.data.normal_(std=0.01)``: fixed, for every layer, in state_dict order."""
    init = e17.EXAMPLE.init()
    assert list(init) == list(ref.Classifier().state_dict())
    for k, v in init.items():
        assert v.shape == e17.SHAPES[k]
        if k.endswith("bias"):
            assert not v.any()
        else:
            assert abs(v.std() - 0.01) < 0.01 * 4 / np.sqrt(v.size) + 1e-4 and abs(v.mean()) < 1e-3
    np.testing.assert_array_equal(init["fc1.weight"], e17.seed_init(0)["fc1.weight"])
    drawn = e17.EXAMPLE.init(3)  # --seed S: the same distribution from default_rng(S) (standard normals saturate it)
    assert not drawn["fc1.bias"].any() and abs(drawn["fc1.weight"].std() - 0.01) < 1e-4
    np.testing.assert_array_equal(drawn["fc2.weight"], e17.seed_init(3)["fc2.weight"])
    assert not np.array_equal(drawn["fc1.weight"], init["fc1.weight"])


def test_batches_are_the_dataloaders():
    """torch's DataLoader(batch_size=64, drop_last=False) over the replaying sampler yields, step by
    step, exactly the masked rows of ``idx``: 23 full batches and one of 28 each epoch, every epoch a
    fresh permutation of the 1500 images."""
    data = e17.make_data(CFG64)
    idx, mask = data["idx"], data["mask"]
    assert idx.shape == mask.shape == (120, 64)
    per_epoch = mask.sum(axis=1).reshape(5, 24)
    assert (per_epoch[:, :23] == 64).all() and (per_epoch[:, 23] == 28).all()
    epochs = replay_epochs(idx, mask, 24)
    assert all(sorted(o) == list(range(1500)) for o in epochs) and len({tuple(o) for o in epochs}) == 5
    images, labels = torch.tensor(data["images"]), torch.tensor(data["labels"])
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels), batch_size=64,
                                         sampler=ReplaySampler(epochs, 1500))
    assert len(loader) == 24
    t = 0
    for _ in range(5):
        for x, y in loader:
            rows = idx[t][mask[t]]
            np.testing.assert_array_equal(x.numpy(), data["images"][rows])
            np.testing.assert_array_equal(y.numpy(), data["labels"][rows])
            t += 1
    assert t == 120
    cut, cut_mask = e17.draw_batches(0, 30, 1500, 64)
    np.testing.assert_array_equal(cut, idx[:30])  # --steps cuts the same draw
    np.testing.assert_array_equal(cut_mask, mask[:30])
    assert not np.array_equal(e17.draw_batches(1, 120, 1500, 64)[0], idx)


@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-14), ("float32", 2e-6)])
def test_partial_batch_mask_is_nllloss_mean(dtype, rtol):
    """The last batch: 28 real rows padded to 64. The masked loss and gradients equal torch's NLLLoss
    (mean over the 28) and its backward; whatever the padding rows hold changes nothing, bit for bit."""
    cfg = dataclasses.replace(e17.CONFIG, dtype=dtype)
    data = e17.make_data(cfg)
    p = params.cast(e17.EXAMPLE.init(5), dtype)  # the seed's init drawn from seed 5
    t = 23
    assert data["mask"][t].sum() == 28
    step_data = {**data, "idx": data["idx"][t], "mask": data["mask"][t]}
    loss_and_grad = jax.jit(e17.loss_and_grad)
    loss, grads = loss_and_grad({k: jnp.asarray(v) for k, v in p.items()}, jax.device_put(step_data))
    other = dict(step_data, idx=np.where(step_data["mask"], step_data["idx"], 999).astype(np.int32))
    loss2, grads2 = loss_and_grad({k: jnp.asarray(v) for k, v in p.items()}, jax.device_put(other))
    assert float(loss2) == float(loss)
    for k in KEYS:
        np.testing.assert_array_equal(np.asarray(grads2[k]), np.asarray(grads[k]), err_msg=k)

    rows = data["idx"][t][data["mask"][t]]
    model = ref.Classifier().to(getattr(torch, dtype))
    model.load_state_dict({k: torch.tensor(v) for k, v in p.items()}, strict=True)
    torch_loss = torch.nn.NLLLoss()(model(torch.tensor(data["images"][rows])), torch.tensor(data["labels"][rows]))
    torch_loss.backward()
    np.testing.assert_allclose(float(loss), torch_loss.item(), rtol=rtol)
    scale = max(float(np.abs(q.grad.numpy()).max()) for q in model.parameters())
    for k, q in model.named_parameters():
        np.testing.assert_allclose(np.asarray(grads[k]), q.grad.numpy(), atol=rtol * scale * 10, err_msg=k)


def _torch_values(weights, x, labels):
    """The Sequential variant's log-probabilities, CrossEntropyLoss on class scores, probabilities, accuracy."""
    seq = ref.sequential().double()
    seq.load_state_dict({k: torch.tensor(v) for k, v in weights.items()}, strict=True)
    with torch.no_grad():
        log_ps = seq(x)
        scores = seq[:-1](x)  # the class scores before LogSoftmax
        ce = torch.nn.CrossEntropyLoss()(scores, labels)
        nll = torch.nn.NLLLoss()(torch.nn.LogSoftmax(dim=1)(scores), labels)
        ps = torch.exp(log_ps)
        acc = (ps.argmax(dim=1) == labels).double().mean()
    return log_ps.numpy(), scores.numpy(), ce.item(), nll.item(), ps.numpy(), acc.item()


def test_sequential_variant_losses_probabilities_accuracy():
    """The seed's Sequential model, CrossEntropyLoss == LogSoftmax + NLLLoss, torch.exp for
    probabilities, and accuracy: each against torch on the same weights and images."""
    rng = np.random.default_rng(1)
    weights = {k: rng.normal(0, 0.05, s) for k, s in e17.SEQUENTIAL_SHAPES.items()}
    data = e17.make_data(CFG64)
    # Sequential has no view(): the seed flattens first (images.resize_(n, 784))
    x, y = data["images"][:200].reshape(200, 784), data["labels"][:200]
    log_ps, scores, ce, nll, ps, acc = _torch_values(weights, torch.tensor(x), torch.tensor(y))
    w = {k: jnp.asarray(v) for k, v in weights.items()}
    ours = e17.predict(w, jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(ours), log_ps, rtol=1e-13, atol=1e-14)
    seq = e17.model(w)
    our_scores = jnp.asarray(x)
    for layer in seq.layers[:-1]:
        our_scores = layer(our_scores)
    np.testing.assert_allclose(np.asarray(our_scores), scores, rtol=1e-13, atol=1e-14)
    j_ce = float(e17.cross_entropy(our_scores, jnp.asarray(y)))
    j_nll = float(e17.nll_loss(jax.nn.log_softmax(our_scores, axis=1), jnp.asarray(y)))
    np.testing.assert_allclose([j_ce, j_nll], [ce, ce], rtol=1e-14)  # CrossEntropyLoss = LogSoftmax + NLLLoss
    np.testing.assert_allclose(nll, ce, rtol=1e-14)
    probs = e17.probabilities(ours)
    np.testing.assert_allclose(np.asarray(probs), ps, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(np.asarray(probs.sum(axis=1)), 1.0, rtol=1e-14)
    assert float(e17.accuracy(ours, jnp.asarray(y))) == acc


def _state(dtype="float64"):
    return jax.device_put(e17.EXAMPLE.state(params.cast(e17.EXAMPLE.init(), dtype)))


def test_the_epoch_is_one_compiled_scan():
    """An epoch is one lax.scan with no host call per batch; five one-epoch scans give the same state
    as one 120-step scan, and running_loss restarts each epoch."""
    d = jax.device_put(e17.make_data(CFG64))
    epoch = str(jax.make_jaxpr(lambda s: training.scan_steps(e17.EXAMPLE.train_step, CFG64, s, d, jnp.int32(0), 24, True))(_state()))
    assert "= scan[" in epoch and "length=24" in epoch and "callback" not in epoch
    whole, aux = training.scan_steps(e17.EXAMPLE.train_step, CFG64, _state(), d, jnp.int32(0), 120, False)
    s = _state()
    for e in range(5):
        s, _ = training.scan_steps(e17.EXAMPLE.train_step, CFG64, s, d, jnp.int32(24 * e), 24, True)
    for k in KEYS:
        np.testing.assert_array_equal(np.asarray(s[k]), np.asarray(whole[k]), err_msg=k)
    losses = np.asarray(aux["loss"]).reshape(5, 24)
    np.testing.assert_allclose(np.asarray(aux["epoch_loss"]).reshape(5, 24)[:, -1], losses.sum(axis=1) / 24, rtol=1e-14)


def test_both_frameworks_print_the_seeds_lines_and_agree(capsys):
    """``Training loss: {running_loss/len(trainloader)}`` once per epoch, the same numbers in JAX and torch."""
    out = {}
    for fw in ("jax", "torch"):
        assert main(["run", "E17", "--framework", fw, "--dtype", "float64"]) == 0
        header, *lines = capsys.readouterr().out.splitlines()
        assert header.startswith("Data: scikit-learn digits") and "1500 training images, 24 batches of 64" in header
        assert len(lines) == 5 and all(line.startswith("Training loss: ") for line in lines), lines
        out[fw] = [float(line.split(": ")[1]) for line in lines]
    np.testing.assert_allclose(out["jax"], out["torch"], rtol=1e-13)
    assert out["jax"][-1] < out["jax"][0]


def test_real_data_dir_and_seed_through_the_cli(tmp_path, capsys):
    """--data-dir: the IDX files (130 images: 3 batches an epoch, the last of 2 rows); --seed S sets
    the shuffle and the initial values; both frameworks end at the same parameters."""
    write_fashion_mnist(tmp_path, 130, gz=True)
    docs = []
    for fw in ("jax", "torch"):
        assert main(["run", "E17", "--data-dir", str(tmp_path), "--seed", "2", "--framework", fw,
                     "--dtype", "float64", "--json"]) == 0
        docs.append(json.loads(capsys.readouterr().out))
    assert docs[0]["steps"] == docs[1]["steps"] == 15
    for k in KEYS:
        np.testing.assert_allclose(docs[0]["params"][k], docs[1]["params"][k], rtol=1e-12, atol=1e-12, err_msg=k)
    np.testing.assert_allclose([h[1] for h in docs[0]["history"]], [h[1] for h in docs[1]["history"]], rtol=1e-12)
    assert e17.header_lines(dataclasses.replace(e17.CONFIG, data_dir=str(tmp_path))) == [
        f"Data: Fashion-MNIST ({tmp_path}): 130 training images, 3 batches of 64 an epoch"]
    assert e17.header_lines(e17.CONFIG)[0].startswith("Data: scikit-learn digits")


def test_print_every_is_honoured_by_both_frameworks(capsys):
    """--set print_every=N (not the seed's per-epoch print): both sides print the epoch's mean loss so far
    every N batches, across the epoch boundary (24 batches an epoch of the digits)."""
    lines = {}
    for fw in ("jax", "torch"):
        assert main(["run", "E17", "--framework", fw, "--set", "print_every=10", "--steps", "30"]) == 0
        lines[fw] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Training loss: ")]
    assert len(lines["jax"]) == len(lines["torch"]) == 3
    ours, theirs = ([float(x.split(": ")[1]) for x in lines[fw]] for fw in ("jax", "torch"))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
