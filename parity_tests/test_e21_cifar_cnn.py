"""E21: the seed's Net trained as the blitz's classifier — layouts (OIHW→HWIO, VALID, pool stride, the
C,H,W flatten before fc1), the shuffle drawn up front and replayed by torch's DataLoader, the blitz's lines."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from flax import nnx

from jaxport import harness, params
from jaxport.cli import main
from jaxport.examples.e21_cifar_cnn import port as e21
from jaxport.examples.e21_cifar_cnn import reference as ref
from jaxport.examples.e22_manual_sgd_update import port as e22

from _helpers import assert_parity


def test_parity_float32(device):
    assert_parity(e21.EXAMPLE, "float32", device)


def test_parity_float64_first_epoch(device):
    """float64 re-evaluates every step's gradients with the parameters batched, which XLA's CPU
    convolution does slowly: one epoch (100 steps) by default, both epochs under -m slow."""
    assert_parity(e21.EXAMPLE, "float64", device, steps=100)


@pytest.mark.slow
def test_parity_float64(device):
    assert_parity(e21.EXAMPLE, "float64", device)


def test_one_net_shared_with_e22():
    """E21 trains E22's Net (one definition each side), from E22's init."""
    assert ref.Net is __import__("jaxport.examples.e22_manual_sgd_update.reference", fromlist=["Net"]).Net
    assert e21.SHAPES is e22.SHAPES and e21.DEFAULT_INIT is e22.DEFAULT_INIT


@pytest.fixture(scope="module")
def setup():
    """float64 params, a batch of 4 of the training images, and torch's Net holding the same values."""
    p = params.cast(e21.EXAMPLE.init(), "float64")
    data = e21.make_data(dataclasses.replace(e21.CONFIG, dtype="float64"))
    x = data["images"][data["order"][0]]
    net = ref.Net().double()
    net.load_state_dict({k: torch.tensor(v) for k, v in p.items()}, strict=True)
    return p, x, net


def test_conv_weights_oihw_become_hwio(setup):
    """torch's conv weight (out, in, kh, kw) is flax's kernel (kh, kw, in, out): transpose (2, 3, 1, 0)."""
    p, _, _ = setup
    model = e22.net({k: jnp.asarray(v) for k, v in p.items()})
    for name, (o, i, kh, kw) in (("conv1", (6, 3, 5, 5)), ("conv2", (16, 6, 5, 5))):
        kernel = np.asarray(getattr(model, name).kernel[...])
        assert kernel.shape == (kh, kw, i, o)
        np.testing.assert_array_equal(kernel, p[f"{name}.weight"].transpose(2, 3, 1, 0))
    np.testing.assert_array_equal(np.asarray(model.fc1.kernel[...]), p["fc1.weight"].T)  # Linear: (out, in) -> (in, out)


def test_valid_padding_and_pool_stride_match_torch(setup):
    """conv1 pads nothing ('VALID': 32 -> 28, as torch's padding=0) and the pool strides by its window
    (28 -> 14); flax's defaults ('SAME', stride 1) give other shapes and other numbers."""
    p, x, _ = setup
    model = e22.net({k: jnp.asarray(v) for k, v in p.items()})
    nhwc = jnp.transpose(jnp.asarray(x), (0, 2, 3, 1))
    ours = model.conv1(nhwc)
    theirs = F.conv2d(torch.tensor(x), torch.tensor(p["conv1.weight"]), torch.tensor(p["conv1.bias"]))
    assert ours.shape == (4, 28, 28, 6) and tuple(theirs.shape) == (4, 6, 28, 28)
    np.testing.assert_allclose(np.asarray(ours).transpose(0, 3, 1, 2), theirs.numpy(), rtol=0, atol=1e-14)  # float64 sums
    pooled = e22.pool(nnx.relu(ours))
    theirs_pooled = F.max_pool2d(F.relu(theirs), 2, 2)
    assert pooled.shape == (4, 14, 14, 6)
    np.testing.assert_allclose(np.asarray(pooled).transpose(0, 3, 1, 2), theirs_pooled.numpy(), rtol=0, atol=1e-14)
    # flax's defaults, for contrast
    same = nnx.Conv(3, 6, (5, 5), rngs=nnx.Rngs(0), param_dtype=jnp.float64)
    assert same(nhwc).shape == (4, 32, 32, 6)  # padding='SAME' by default
    assert nnx.max_pool(nnx.relu(ours), (2, 2)).shape == (4, 27, 27, 6)  # strides=(1, 1) by default


def _features(p, x):
    """The NHWC features before the flatten, (4, 5, 5, 16), from E22's flax Net's own layers."""
    model = e22.net({k: jnp.asarray(v) for k, v in p.items()})
    h = jnp.transpose(jnp.asarray(x), (0, 2, 3, 1))
    h = e22.pool(nnx.relu(model.conv1(h)))
    return model, e22.pool(nnx.relu(model.conv2(h)))


def test_flatten_order_before_fc1(setup):
    """torch.flatten(x, 1) flattens C, H, W; fc1's 400 weights per unit are in that order. Flattening
    NHWC's H, W, C instead gives another fc1 output; transposing back to C, H, W (what the Net does) or
    permuting fc1's weight columns both give torch's."""
    p, x, net = setup
    model, h = _features(p, x)
    assert h.shape == (4, 5, 5, 16)
    with torch.no_grad():
        t = torch.tensor(x)
        t = net.pool(F.relu(net.conv2(net.pool(F.relu(net.conv1(t))))))
        theirs = net.fc1(torch.flatten(t, 1)).numpy()
    np.testing.assert_allclose(np.asarray(h).transpose(0, 3, 1, 2), t.numpy(), rtol=0, atol=1e-13)
    right = np.asarray(model.fc1(jnp.transpose(h, (0, 3, 1, 2)).reshape(4, -1)))  # C, H, W: as the Net does
    wrong = np.asarray(model.fc1(h.reshape(4, -1)))  # H, W, C: NHWC's own order
    np.testing.assert_allclose(right, theirs, rtol=0, atol=1e-13)
    assert np.abs(wrong - theirs).max() > 1e-2 * np.abs(theirs).max()
    w_hwc = p["fc1.weight"].reshape(120, 16, 5, 5).transpose(0, 2, 3, 1).reshape(120, 400)  # or permute fc1 instead
    np.testing.assert_allclose(np.asarray(h).reshape(4, -1) @ w_hwc.T + p["fc1.bias"], theirs, rtol=0, atol=1e-13)
    full = np.asarray(e22.net({k: jnp.asarray(v) for k, v in p.items()})(jnp.asarray(x)))
    np.testing.assert_allclose(full, net(torch.tensor(x)).detach().numpy(), rtol=0, atol=1e-13)


def test_every_epoch_is_a_fresh_permutation_and_steps_cut_a_prefix():
    order, mask = e21.draw_orders(0, 200, 400, 4)
    assert order.shape == mask.shape == (200, 4) and order.dtype == np.int32 and mask.all()
    epochs = order.reshape(2, 400)
    assert all(sorted(e) == list(range(400)) for e in epochs) and not np.array_equal(epochs[0], epochs[1])
    np.testing.assert_array_equal(e21.draw_orders(0, 130, 400, 4)[0], order[:130])  # --steps cuts the same draw
    assert not np.array_equal(e21.draw_orders(1, 200, 400, 4)[0], order)
    odd, odd_mask = e21.draw_orders(0, 9, 10, 4)  # 10 images: mini-batches of 4, 4 and 2 an epoch (drop_last=False)
    assert odd.shape == (9, 4) and odd_mask.sum(axis=1).tolist() == [4, 4, 2] * 3
    assert all(sorted(odd[3 * k: 3 * k + 3][odd_mask[3 * k: 3 * k + 3]].tolist()) == list(range(10)) for k in range(3))


def test_a_partial_last_batch_is_torchs_mean_over_its_real_images(tmp_path):
    """CIFAR-10 files of 5x6 images: 30 make 8 mini-batches an epoch, the last of 2. The padded,
    masked batch gives torch's CrossEntropyLoss over those 2 images, and the whole run matches torch."""
    from test_datasets_cifar10 import write_cifar

    from jaxport.datasets import cifar10

    write_cifar(tmp_path / cifar10.SUBDIR, per_file=6)
    cfg = dataclasses.replace(e21.CONFIG, data_dir=str(tmp_path), steps=16, dtype="float64")
    data = e21.make_data(cfg)
    assert data["mask"].sum(axis=1).tolist() == [4] * 7 + [2] + [4] * 7 + [2]
    c = harness.compare(e21.EXAMPLE, e21.EXAMPLE.init(), dtype="float64", data_dir=str(tmp_path), steps=16)
    assert c.passed, [r.message for r in c.regimes]


def test_torchs_dataloader_replays_the_drawn_order():
    """The reference's DataLoader (the blitz's, with a sampler for shuffle=True) yields exactly the
    mini-batches of ``order``, epoch by epoch."""
    data = e21.make_data(e21.CONFIG)
    trainset = torch.utils.data.TensorDataset(torch.from_numpy(data["images"]), torch.from_numpy(data["labels"].astype(np.int64)))
    seen = []
    for epoch in range(2):
        for inputs, labels in ref.trainloader(trainset, data["order"], data["mask"], epoch, 4):
            seen.append((inputs.numpy(), labels.numpy()))
    assert len(seen) == e21.CONFIG.steps
    for (inputs, labels), idx in zip(seen, data["order"]):
        np.testing.assert_array_equal(inputs, data["images"][idx])
        np.testing.assert_array_equal(labels, data["labels"][idx])


def test_the_blitz_lines_in_both_frameworks(capsys):
    """The blitz's '[epoch, i] loss: running_loss / print_every' lines, the same from JAX and torch
    (float64: the printed 3 decimals cannot straddle a rounding), then 'Finished Training'."""
    outs = []
    for fw in ("jax", "torch"):
        assert main(["run", "E21", "--framework", fw, "--dtype", "float64"]) == 0
        outs.append(capsys.readouterr().out.strip().splitlines())
    assert outs[0] == outs[1]
    header, *lines = outs[0]
    assert header.startswith("Data: scikit-learn digits") and "400 training images, 100 mini-batches of 4" in header
    assert [line[:9] for line in lines[:-1]] == ["[1,    50", "[1,   100", "[2,    50", "[2,   100"]
    assert all(" loss: " in line for line in lines[:-1]) and lines[-1] == "Finished Training"
    first = float(lines[0].split("loss: ")[1])
    assert 2.0 < first < 2.5 and float(lines[-2].split("loss: ")[1]) < first  # ~ln 10 at the start, then learning


def test_running_loss_is_state_reset_where_the_blitz_resets_it():
    """``running_loss`` is a leaf of the scan's state: the sum of the losses since the last print, zeroed
    after a print and at an epoch's end (the blitz's ``running_loss = 0.0`` at each epoch's start)."""
    cfg = dataclasses.replace(e21.CONFIG, dtype="float64", steps=60, print_every=25, digits_images=120)  # 30 an epoch
    data = jax.device_put(e21.make_data(cfg))
    state = {k: jnp.asarray(v) for k, v in e21.EXAMPLE.state(params.cast(e21.EXAMPLE.init(), "float64")).items()}
    step = jax.jit(e21.step, static_argnums=3)
    losses, running = [], []
    for t in range(cfg.steps):
        state, aux = step(state, data, jnp.int32(t), cfg)
        losses.append(float(aux["loss"]))
        running.append(float(state["running_loss"]))
    losses, running = np.array(losses), np.array(running)
    np.testing.assert_allclose(running[23], losses[:24].sum(), rtol=1e-14)
    assert running[24] == 0.0 and running[29] == 0.0  # printed at i = 24; the epoch ends at i = 29
    np.testing.assert_allclose(running[28], losses[25:29].sum(), rtol=1e-14)
    np.testing.assert_allclose(running[40], losses[30:41].sum(), rtol=1e-14)  # a new epoch starts from 0
