"""E20: freezing a ResNet-18 and training a new fc; what freezes in JAX (and what, like optax.masked, does not)."""


import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxport import optim, params, training
from jaxport.examples import _resnet
from jaxport.examples.e20_finetune_freeze import port as e20
from jaxport.examples.e20_finetune_freeze import reference as ref

from _helpers import assert_parity

CFG = e20.Config(dtype="float64")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e20.EXAMPLE, dtype, device)


@pytest.fixture(scope="module")
def data():
    return e20.make_data(CFG)


def test_torch_frozen_parameters_unchanged_but_buffers_move(data):
    """torch: frozen parameters bit for bit as loaded, no .grad; BatchNorm buffers still updated (train mode)."""
    run, model = ref.finetune(params.cast(e20.EXAMPLE.init(), "float64"), data, CFG)
    for k, p in model.named_parameters():
        if not k.startswith("fc."):
            assert not p.requires_grad and p.grad is None, k
            np.testing.assert_array_equal(p.detach().numpy(), data[e20.PRETRAINED + k], err_msg=k)
    assert not np.array_equal(run.params["fc.weight"], e20.EXAMPLE.init()["fc.weight"])
    assert int(model.bn1.num_batches_tracked) == CFG.steps
    assert not np.allclose(model.bn1.running_mean.numpy(), 0.0)


def _full_tree(data, p0):
    """The whole model as one tree: the frozen backbone (its old fc dropped) and the new fc."""
    return {**{k: jnp.asarray(v) for k, v in e20.backbone(data).items() if not k.startswith("fc.")},
            **{k: jnp.asarray(v) for k, v in p0.items()}}


@jax.jit
def _full_loss_and_grad(tree, buffers, data):
    """Gradients of the *whole* tree (what torch computes without requires_grad=False)."""
    def loss(tree):
        feats, new = _resnet.features({**tree, "fc.weight": jnp.zeros((1000, 512), tree["fc.weight"].dtype),
                                       "fc.bias": jnp.zeros((1000,), tree["fc.weight"].dtype)}, buffers, data["data"], train=True)
        return e20.cross_entropy(feats @ tree["fc.weight"].T + tree["fc.bias"][None], data["labels"]), new
    return jax.value_and_grad(loss, has_aux=True)(tree)


def _labels(tree):
    return {k: ("train" if k.startswith("fc.") else "frozen") for k in tree}


def test_optax_masked_does_not_freeze(data):
    """optax.masked(sgd, mask) leaves the masked-out leaves' updates as the raw gradients: they move by +g."""
    p0 = params.cast(e20.EXAMPLE.init(), "float64")
    tree = _full_tree(data, p0)
    buffers = jax.tree.map(jnp.asarray, _resnet.initial_buffers("float64"))
    _, grads = _full_loss_and_grad(tree, buffers, data)
    mask = {k: lab == "train" for k, lab in _labels(tree).items()}
    tx = optax.masked(optax.sgd(CFG.lr, momentum=CFG.momentum), mask)
    updates, _ = tx.update(grads, tx.init(tree), tree)
    new = optax.apply_updates(tree, updates)
    for k in tree:
        if not mask[k]:
            np.testing.assert_array_equal(np.asarray(updates[k]), np.asarray(grads[k]), err_msg=k)  # passed through
    moved = [k for k in tree if not mask[k] and not np.array_equal(np.asarray(new[k]), np.asarray(tree[k]))]
    assert "conv1.weight" in moved and len(moved) > 40


def test_multi_transform_set_to_zero_freezes_and_matches_the_port(data):
    """optax.multi_transform with set_to_zero over the whole tree: frozen leaves bitwise unchanged after
    every step, the fc as the port's (which differentiates the fc alone)."""
    p0 = params.cast(e20.EXAMPLE.init(), "float64")
    tree = _full_tree(data, p0)
    frozen0 = {k: np.asarray(v).copy() for k, v in tree.items() if not k.startswith("fc.")}
    buffers = jax.tree.map(jnp.asarray, _resnet.initial_buffers("float64"))
    tx = optax.multi_transform({"train": optim.sgd(CFG.lr, momentum=CFG.momentum), "frozen": optax.set_to_zero()}, _labels(tree))
    opt_state = tx.init(tree)
    for _ in range(CFG.steps):
        (_, buffers), grads = _full_loss_and_grad(tree, buffers, data)
        updates, opt_state = tx.update(grads, opt_state, tree)
        tree = optax.apply_updates(tree, updates)
    for k, v in frozen0.items():
        np.testing.assert_array_equal(np.asarray(tree[k]), v, err_msg=k)
    port = training.train(e20.EXAMPLE, p0, CFG).params
    for k in e20.SHAPES:
        np.testing.assert_allclose(np.asarray(tree[k]), port[k], rtol=1e-12, atol=1e-15, err_msg=k)
    for name, key in e20.buffer_names().items():  # the running statistics moved the same way
        np.testing.assert_allclose(np.asarray(buffers[key]), port[name], rtol=1e-12, atol=1e-15, err_msg=name)
    assert int(port["num_batches_tracked.bn1"]) == CFG.steps
