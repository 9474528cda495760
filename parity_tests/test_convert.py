"""jaxport.convert: torch state_dict <-> flax nnx, proven against torch's own modules.

For each torch model: its weights go to a flax twin, the forward outputs must agree (float32 and
float64), the round trip torch -> nnx -> state_dict must be bit for bit, torch must accept the output
with ``load_state_dict(strict=True)``, and each malformed state_dict must fail with a one-line message.
"""

import functools

import jax

jax.config.update("jax_enable_x64", True)  # before any array exists (conftest will do this too)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from flax import nnx  # noqa: E402

from jaxport import convert as C  # noqa: E402
from jaxport.errors import UsageError  # noqa: E402

# Forward outputs, max |jax - torch| / max |torch|. Same weights, same inputs, a few dozen-term dot
# products summed in another order: measured <= 2.0e-7 (float32, the CNN) and <= 2.9e-16 (float64) on CPU.
FORWARD_RTOL = {torch.float32: 1e-6, torch.float64: 1e-12}
JNP = {torch.float32: jnp.float32, torch.float64: jnp.float64}


@pytest.fixture(autouse=True)
def _strict_promotion():
    """Silent dtype promotion or rank broadcasting in the converted models fails loudly."""
    with jax.numpy_dtype_promotion("strict"), jax.numpy_rank_promotion("raise"):
        yield


# ---- the torch models and their flax twins (attribute names = torch's) ---------------------


class TorchTwoLayer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 8)
        self.fc2 = torch.nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class NnxTwoLayer(nnx.Module):
    def __init__(self, *, rngs, dtype=jnp.float32):
        self.fc1 = C.linear(4, 8, rngs=rngs, dtype=dtype)
        self.fc2 = C.linear(8, 3, rngs=rngs, dtype=dtype)

    def __call__(self, x):
        return self.fc2(nnx.relu(self.fc1(x)))


class TorchCNN(torch.nn.Module):
    """A nested Sequential (``features.0.weight``), BatchNorm buffers and a named Linear."""

    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.BatchNorm2d(4),
                                            torch.nn.ReLU(), torch.nn.Conv2d(4, 3, 3, stride=2))
        self.fc = torch.nn.Linear(3 * 3 * 3, 5)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


class NnxCNN(nnx.Module):
    def __init__(self, *, rngs, dtype=jnp.float32):
        self.features = nnx.Sequential(C.conv2d(2, 4, 3, padding=1, rngs=rngs, dtype=dtype),
                                       C.batch_norm2d(4, rngs=rngs, dtype=dtype), nnx.relu,
                                       C.conv2d(4, 3, 3, stride=2, rngs=rngs, dtype=dtype))
        self.fc = C.linear(27, 5, rngs=rngs, dtype=dtype)

    def __call__(self, x_nchw):
        h = self.features(jnp.transpose(x_nchw, (0, 2, 3, 1)))  # NHWC inside
        h = jnp.transpose(h, (0, 3, 1, 2)).reshape(h.shape[0], -1)  # flatten C,H,W as torch does
        return self.fc(h)


class TorchPolynomial(torch.nn.Module):
    """Bare parameters (the seed's Polynomial3): keys are the attribute names."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c, self.d = (torch.nn.Parameter(torch.randn(())) for _ in range(4))

    def forward(self, x):
        return self.a + self.b * x + self.c * x**2 + self.d * x**3


class NnxPolynomial(nnx.Module):
    def __init__(self, *, rngs, dtype=jnp.float32):
        self.a, self.b, self.c, self.d = (nnx.Param(jnp.zeros((), dtype)) for _ in range(4))

    def __call__(self, x):
        return self.a[...] + self.b[...] * x + self.c[...] * x**2 + self.d[...] * x**3


def _flatten01(y):
    return y.reshape(-1)  # nn.Flatten(0, 1) on (N, 1)


MODELS = {
    # name: (torch factory, flax factory (rngs, dtype), input shape)
    "linear": (lambda: torch.nn.Linear(3, 5), lambda r, d: C.linear(3, 5, rngs=r, dtype=d), (7, 3)),
    "seq_flatten": (lambda: torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1)),
                    lambda r, d: nnx.Sequential(C.linear(3, 1, rngs=r, dtype=d), _flatten01), (7, 3)),
    "seq_mlp": (lambda: torch.nn.Sequential(torch.nn.Linear(5, 10), torch.nn.ReLU(), torch.nn.Linear(10, 15),
                                            torch.nn.ReLU(), torch.nn.Linear(15, 5)),
                lambda r, d: nnx.Sequential(C.linear(5, 10, rngs=r, dtype=d), nnx.relu, C.linear(10, 15, rngs=r, dtype=d),
                                            nnx.relu, C.linear(15, 5, rngs=r, dtype=d)), (7, 5)),
    "named": (TorchTwoLayer, lambda r, d: NnxTwoLayer(rngs=r, dtype=d), (7, 4)),
    "cnn": (TorchCNN, lambda r, d: NnxCNN(rngs=r, dtype=d), (3, 2, 7, 7)),
    "polynomial": (TorchPolynomial, lambda r, d: NnxPolynomial(rngs=r, dtype=d), (11,)),
}


def _torch_model(name, dtype):
    torch.manual_seed(0)
    model = MODELS[name][0]().to(dtype)
    with torch.no_grad():  # running statistics away from their 0/1 defaults, so the mapping shows
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
                m.num_batches_tracked.fill_(7)
    return model.eval()


@functools.cache
def _built(name, dtype, seed, abstract):
    build = lambda: MODELS[name][1](nnx.Rngs(seed), JNP[dtype])  # noqa: E731
    return nnx.eval_shape(build) if abstract else build()


def _nnx_model(name, dtype, seed=1, *, abstract=False):
    """A fresh copy of the flax twin, in eval mode. ``abstract``: shapes only, to be filled by update.
    Built once per argument set: compiling the init's eager ops is most of this file's runtime."""
    model = nnx.clone(_built(name, dtype, seed, abstract))
    model.eval()
    return model


def _filled(name, dtype, scale=1):
    """The flax twin holding (scale ×) the torch model's weights: no flax init drawn or compiled."""
    model = _nnx_model(name, dtype, abstract=True)
    sd = {k: v * scale if v.is_floating_point() else v for k, v in _torch_model(name, dtype).state_dict().items()}
    nnx.update(model, C.from_state_dict(model, sd))
    return model


def _input(name, dtype):
    return np.random.default_rng(2).standard_normal(MODELS[name][2]).astype(np.dtype(str(dtype).split(".")[1]))


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.dtype, a.shape, a.tobytes()


def _assert_bitwise(got, want):
    assert sorted(got) == sorted(want), f"keys differ: {sorted(got)} vs {sorted(want)}"
    for k in want:
        assert _bits(got[k]) == _bits(want[k]), f"{k}: not bit for bit"


def _rel(ours, ref):
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    return float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))


# ---- forward parity ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(MODELS))
def test_forward_matches_torch(name, dtype):
    tm = _torch_model(name, dtype)
    model = _nnx_model(name, dtype, abstract=True)
    nnx.update(model, C.from_state_dict(model, tm.state_dict()))
    x = _input(name, dtype)
    with torch.no_grad():
        ref = tm(torch.from_numpy(x)).numpy()
    ours = model(jnp.asarray(x))
    assert _rel(ours, ref) <= FORWARD_RTOL[dtype], (name, _rel(ours, ref))
    assert _rel(jax.jit(lambda m, x: m(x))(model, jnp.asarray(x)), ref) <= FORWARD_RTOL[dtype]


def test_flax_to_torch_forward(dtype=torch.float64):
    """The other direction: flax's own (torch-like) init loaded into torch gives torch's outputs."""
    model = _nnx_model("seq_mlp", dtype, seed=5)
    tm = _torch_model("seq_mlp", dtype)
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in C.to_state_dict(model).items()}, strict=True)
    x = _input("seq_mlp", dtype)
    with torch.no_grad():
        ref = tm(torch.from_numpy(x)).numpy()
    assert _rel(model(jnp.asarray(x)), ref) <= FORWARD_RTOL[dtype]


def test_batchnorm_training_step():
    """Train mode: outputs and running_mean agree; running_var differs by torch's unbiased n/(n-1)."""
    tm, model = _torch_model("cnn", torch.float64).train(), _nnx_model("cnn", torch.float64, abstract=True)
    nnx.update(model, C.from_state_dict(model, tm.state_dict()))
    model.train()
    x = _input("cnn", torch.float64)
    ref = tm(torch.from_numpy(x)).detach().numpy()
    with jax.numpy_dtype_promotion("standard"):  # flax's _compute_stats calls promote_types(f64, f32)
        assert _rel(model(jnp.asarray(x)), ref) <= 1e-12
    got, want = C.to_state_dict(model), tm.state_dict()
    assert _rel(got["features.1.running_mean"], want["features.1.running_mean"].numpy()) <= 1e-14
    n = x.shape[0] * x.shape[2] * x.shape[3]  # elements per channel in the batch
    old = _torch_model("cnn", torch.float64).state_dict()["features.1.running_var"].numpy()
    torch_batch_var = (want["features.1.running_var"].numpy() - 0.9 * old) / 0.1
    flax_batch_var = (got["features.1.running_var"] - 0.9 * old) / 0.1
    np.testing.assert_allclose(torch_batch_var, flax_batch_var * n / (n - 1), rtol=1e-10)


def test_abstract_target_needs_no_init():
    """nnx.eval_shape + from_state_dict + nnx.merge: no random init is ever drawn."""
    tm = _torch_model("seq_mlp", torch.float32)
    graphdef, abstract = nnx.split(_nnx_model("seq_mlp", torch.float32, abstract=True))
    model = nnx.merge(graphdef, C.from_state_dict(abstract, tm.state_dict()))
    x = _input("seq_mlp", torch.float32)
    with torch.no_grad():
        ref = tm(torch.from_numpy(x)).numpy()
    assert _rel(model(jnp.asarray(x)), ref) <= FORWARD_RTOL[torch.float32]


# ---- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(MODELS))
def test_round_trip_bitwise_and_torch_accepts(name, dtype):
    tm = _torch_model(name, dtype)
    sd = {k: v.clone() for k, v in tm.state_dict().items()}
    with torch.no_grad():  # non-finite values travel like any other
        first = next(v for v in sd.values() if v.is_floating_point() and v.numel() > 0)
        first.view(-1)[0] = float("nan")
        first.view(-1)[-1] = float("-inf")
    model = _nnx_model(name, dtype, abstract=True)
    state = C.from_state_dict(model, sd)
    nnx.update(model, state)
    out = C.to_state_dict(model, extras=C.torch_only_buffers(sd))
    want = {k: v.numpy() for k, v in sd.items()}
    _assert_bitwise(out, want)
    _assert_bitwise(C.to_state_dict(state, extras=C.torch_only_buffers(sd)), want)  # a State works too
    fresh = MODELS[name][0]().to(dtype)
    result = fresh.load_state_dict({k: torch.from_numpy(v) for k, v in out.items()}, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    _assert_bitwise({k: v.numpy() for k, v in fresh.state_dict().items()}, want)


def test_output_is_owned_and_input_not_aliased():
    tm = _torch_model("linear", torch.float32)
    model = _nnx_model("linear", torch.float32, abstract=True)
    nnx.update(model, C.from_state_dict(model, tm.state_dict()))
    before = np.asarray(model.bias[...]).copy()
    with torch.no_grad():
        tm.bias.add_(1.0)  # an in-place torch update must not reach the flax model
    np.testing.assert_array_equal(np.asarray(model.bias[...]), before)
    out = C.to_state_dict(model)
    assert all(v.flags.writeable and v.flags.c_contiguous for v in out.values())


def test_without_num_batches_tracked_torch_keeps_its_counter():
    tm = _torch_model("cnn", torch.float32)
    model = _nnx_model("cnn", torch.float32, abstract=True)
    nnx.update(model, C.from_state_dict(model, tm.state_dict()))
    out = C.to_state_dict(model)
    assert "features.1.num_batches_tracked" not in out
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in out.items()}, strict=True)
    assert int(tm.features[1].num_batches_tracked) == 7


def test_key_mapping_conventions():
    assert C.torch_key(("layers", 0, "kernel")) == "0.weight"
    assert C.torch_key(("features", "layers", 1, "mean")) == "features.1.running_mean"
    assert C.torch_key(("fc1", "bias")) == "fc1.bias"
    assert C.torch_key(("layers", 2, "scale"), sequential_attr=None) == "layers.2.weight"
    assert C.torch_key(("layers", "kernel")) == "layers.weight"  # not followed by an index: kept
    # nnx's node order (sorted names, numeric indices), torch's order inside a layer
    assert list(C.to_state_dict(_filled("cnn", torch.float32))) == [
        "fc.weight", "fc.bias", "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
        "features.1.running_mean", "features.1.running_var", "features.3.weight", "features.3.bias"]


def test_list_attributes():
    """``self.layers = nnx.List(...)`` maps to nn.Sequential; any other list name to a ModuleList."""

    class Stack(nnx.Module):
        def __init__(self, attr, rngs):
            setattr(self, attr, nnx.List([C.linear(2, 3, rngs=rngs), C.linear(3, 1, rngs=rngs)]))

    seq = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    model = nnx.eval_shape(lambda: Stack("layers", nnx.Rngs(0)))
    nnx.update(model, C.from_state_dict(model, seq.state_dict()))
    assert list(C.to_state_dict(model)) == list(seq.state_dict())
    blocks = torch.nn.Module()
    blocks.blocks = torch.nn.ModuleList([torch.nn.Linear(2, 3), torch.nn.Linear(3, 1)])
    model = nnx.eval_shape(lambda: Stack("blocks", nnx.Rngs(0)))
    nnx.update(model, C.from_state_dict(model, blocks.state_dict()))
    _assert_bitwise(C.to_state_dict(model), {k: v.numpy() for k, v in blocks.state_dict().items()})


def test_rng_state_passes_through():
    class WithDropout(nnx.Module):
        def __init__(self, rngs):
            self.fc1 = C.linear(4, 8, rngs=rngs)
            self.drop = nnx.Dropout(0.5, rngs=rngs)
            self.fc2 = C.linear(8, 3, rngs=rngs)

    model = nnx.eval_shape(lambda: WithDropout(nnx.Rngs(0)))
    sd = TorchTwoLayer().state_dict()
    graphdef, state = nnx.split(model)
    new = C.from_state_dict(state, sd)
    assert list(C.to_state_dict(new)) == list(sd)
    nnx.merge(graphdef, new)  # the RNG leaves are still there


# ---- plain params pytrees ----------------------------------------------------------------------


def test_nested_params_pytree():
    tm = _torch_model("seq_mlp", torch.float64)
    tree = C.unflatten_state_dict(tm.state_dict())
    assert set(tree) == {"0", "2", "4"} and set(tree["0"]) == {"weight", "bias"}

    def predict(p, x):  # pure JAX on torch's layout
        for i in ("0", "2"):
            x = jax.nn.relu(x @ p[i]["weight"].T + p[i]["bias"][None, :])
        return x @ p["4"]["weight"].T + p["4"]["bias"][None, :]

    x = _input("seq_mlp", torch.float64)
    with torch.no_grad():
        ref = tm(torch.from_numpy(x)).numpy()
    assert _rel(predict(jax.tree.map(jnp.asarray, tree), jnp.asarray(x)), ref) <= 1e-12
    _assert_bitwise(C.flatten_state_dict(tree), {k: v.numpy() for k, v in tm.state_dict().items()})


def test_nested_params_pytree_conflict():
    with pytest.raises(C.StateDictError, match=r"'a\.b'"):
        C.unflatten_state_dict({"a": np.zeros(1), "a.b": np.zeros(1)})
    with pytest.raises(C.StateDictError, match=r"'a'"):
        C.unflatten_state_dict({"a.b": np.zeros(1), "a": np.zeros(1)})


# ---- init distribution ---------------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["linear", "conv"])
def test_torch_init_distribution(layer):
    """U(±1/√fan_in) for weight and bias: bounds, mean and variance (b²/3) within 5 σ of sampling."""
    rngs = nnx.Rngs(3)
    if layer == "linear":
        fan_in, mod = 50, C.linear(50, 400, rngs=rngs)
    else:
        fan_in, mod = 6 * 5 * 5, C.conv2d(6, 80, 5, rngs=rngs)
    bias = C.torch_bias_init(fan_in)(jax.random.key(4), (20000,), jnp.float32)  # the module's own bias is short
    assert np.max(np.abs(np.asarray(mod.bias[...]))) <= 1.0 / np.sqrt(fan_in)
    bound = 1.0 / np.sqrt(fan_in)
    for name, w in (("kernel", np.asarray(mod.kernel[...], np.float64).ravel()), ("bias", np.asarray(bias, np.float64))):
        n = w.size
        assert np.max(np.abs(w)) <= bound and np.max(np.abs(w)) > 0.99 * bound, name
        assert abs(w.mean()) < 5 * bound / np.sqrt(3 * n), name
        assert abs(np.mean(w**2) / (bound**2 / 3) - 1) < 5 * 0.9 / np.sqrt(n), name
    torch_w = torch.nn.Linear(50, 400).weight if layer == "linear" else torch.nn.Conv2d(6, 80, 5).weight
    assert abs(torch_w.abs().max().item() - bound) < 0.01 * bound  # the same bound in torch


def test_torch_init_dtype():
    assert C.linear(3, 2, rngs=nnx.Rngs(0), dtype=jnp.float64).kernel[...].dtype == jnp.float64
    assert C.batch_norm2d(3, rngs=nnx.Rngs(0), dtype=jnp.float64).var[...].dtype == jnp.float64


# ---- errors: one line naming the key, what was found, what was expected ----------------------


def _sd(name="seq_mlp"):
    return dict(_torch_model(name, torch.float32).state_dict())


def _error(state_dict, name="seq_mlp", **kw):
    with pytest.raises(C.StateDictError) as info:
        C.from_state_dict(_nnx_model(name, torch.float32, abstract=True), state_dict, **kw)
    msg = str(info.value)
    assert "\n" not in msg and isinstance(info.value, ValueError) and isinstance(info.value, UsageError)
    assert info.value.exit_code == 2
    return msg


def test_error_missing_key():
    sd = _sd()
    del sd["2.bias"]
    assert _error(sd) == ("state_dict is missing key '2.bias': nothing found, expected shape (15,) float32 "
                          "(nnx layers.2.bias)")


def test_error_unexpected_key():
    sd = _sd()
    sd["6.weight"] = torch.zeros(2, 3)
    assert _error(sd) == ("state_dict has unexpected key '6.weight' (shape (2, 3)): the module has no such "
                          "parameter, expected only 6 keys (strict=True)")
    sd = _sd("named")
    sd["fc1.num_batches_tracked"] = torch.tensor(0)  # not a BatchNorm: no counter allowed here
    assert "'fc1.num_batches_tracked'" in _error(sd, "named")


def test_error_shape_mismatch():
    sd = _sd()
    sd["0.weight"] = torch.zeros(10, 4)
    assert _error(sd) == "state_dict key '0.weight' has shape (10, 4), expected (10, 5) (nnx layers.0.kernel is (5, 10))"
    sd = _sd()
    sd["0.weight"] = sd["0.weight"].T.contiguous()  # flax's layout handed in by mistake
    assert "has shape (5, 10), expected (10, 5)" in _error(sd, strict=False)  # raised even when not strict
    sd = _sd("cnn")
    sd["features.0.weight"] = torch.zeros(4, 2, 5, 5)
    assert "'features.0.weight' has shape (4, 2, 5, 5), expected (4, 2, 3, 3)" in _error(sd, "cnn")


def test_error_unreadable_value():
    sd = _sd()
    sd["0.bias"] = sd["0.bias"].to(torch.bfloat16)  # numpy has no bfloat16
    assert _error(sd).startswith("state_dict key '0.bias': cannot read it as an array (TypeError")


def test_error_dtype_mismatch():
    sd = {k: v.double() for k, v in _sd().items()}
    assert _error(sd) == ("state_dict key '0.bias' has dtype float64 (shape (10,)), expected float32 "
                          "(cast it, or build the module with param_dtype=float64)")


def test_not_strict_keeps_missing_and_ignores_unexpected():
    model = _filled("seq_mlp", torch.float32, scale=2)
    sd = _sd()
    kept = np.asarray(model.layers[4].bias[...]).copy()
    del sd["4.bias"]
    sd["extra"] = torch.zeros(1)
    nnx.update(model, C.from_state_dict(model, sd, strict=False))
    np.testing.assert_array_equal(np.asarray(model.layers[4].bias[...]), kept)
    np.testing.assert_array_equal(np.asarray(model.layers[0].kernel[...]), sd["0.weight"].numpy().T)


def test_error_extras_collision():
    with pytest.raises(C.StateDictError, match=r"extras key '0.bias' \(shape \(3,\)\) collides"):
        C.to_state_dict(_filled("seq_mlp", torch.float32), extras={"0.bias": np.zeros(3)})


def test_error_two_paths_one_key():
    class Clash(nnx.Module):
        def __init__(self, rngs):
            self.layers = nnx.List([C.linear(2, 2, rngs=rngs)])
            setattr(self, "0", C.linear(2, 2, rngs=rngs))

    with pytest.raises(C.StateDictError, match="both map to torch key '0.bias'"):
        C.to_state_dict(Clash(nnx.Rngs(0)))


def test_traceable_trees_give_torch_layout_gradients():
    """nnx_tree/torch_tree work under jit and grad: a pure step keeps torch-named params and its
    gradients come out in torch's layout, equal to torch's .grad."""
    import jax
    import torch
    from flax import nnx

    from jaxport import convert

    model = nnx.Sequential(nnx.Linear(3, 4, rngs=nnx.Rngs(0)), nnx.relu, nnx.Linear(4, 2, rngs=nnx.Rngs(1)))
    graphdef, state = nnx.split(model)
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).double()
    params = {k: jnp.asarray(v.detach().numpy()) for k, v in tm.state_dict().items()}
    x = np.random.default_rng(0).standard_normal((5, 3))

    def loss(p):
        return (nnx.merge(graphdef, convert.nnx_tree(state, p))(jnp.asarray(x)) ** 2).sum()

    value, grads = jax.jit(jax.value_and_grad(loss))(params)
    tloss = (tm(torch.tensor(x)) ** 2).sum()
    tloss.backward()
    np.testing.assert_allclose(float(value), tloss.item(), rtol=1e-14)
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(np.asarray(grads[name]), p.grad.numpy(), rtol=1e-13, atol=1e-15, err_msg=name)
    back = jax.jit(convert.torch_tree)(convert.nnx_tree(state, params))
    assert set(back) == set(params)
    for k in params:
        np.testing.assert_array_equal(np.asarray(back[k]), np.asarray(params[k]))
    with pytest.raises(convert.StateDictError, match="'2.weight' has shape"):
        convert.nnx_tree(state, {**params, "2.weight": params["2.weight"].T})
