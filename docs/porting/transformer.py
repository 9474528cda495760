"""docs/porting.md's worked port: torch's own ``nn.TransformerEncoder`` (2 layers, d_model 64, 4 heads,
``batch_first=True``, dropout 0) with a linear head, trained by AdamW on a small synthetic sequence
task, ported to flax nnx and checked with ``jaxport compare docs/porting/transformer.py``.

The task: 12-step sequences of 8 features; the target is the mean over time of a fixed projection of
the features, squared (so the model must mix positions: attention, then a mean pool). Batches of 16,
one per step (``batches=True``).

``BUGS`` plants the two traps docs/porting.md walks through (``JAXPORT_PORTING_BUG=layernorm_eps`` or
``=transposed_in_proj``): both make ``compare`` FAIL.
"""

import os

import jax
import jax.numpy as jnp
import numpy as np
import torch
from flax import nnx

from jaxport import check, convert

D_MODEL, HEADS, FF, LAYERS, FEATURES, T = 64, 4, 128, 2, 8, 12
BUG = os.environ.get("JAXPORT_PORTING_BUG", "")
BUGS = ("layernorm_eps", "transposed_in_proj")


class TorchModel(torch.nn.Module):
    """What is being ported: an input projection, torch's encoder, a mean pool, a linear head."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Linear(FEATURES, D_MODEL)
        layer = torch.nn.TransformerEncoderLayer(D_MODEL, HEADS, dim_feedforward=FF, dropout=0.0, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        self.head = torch.nn.Linear(D_MODEL, 1)

    def forward(self, x):
        return self.head(self.encoder(self.embed(x)).mean(dim=1))


class SelfAttention(nnx.Module):
    """``nn.MultiheadAttention`` as torch stores it: ONE packed input projection ``in_proj_weight``
    (3·d_model, d_model), rows q, k, v, applied as ``x @ W.T + b`` (torch's layout, so no transpose in
    the conversion: the leaf is not called ``kernel``), then ``out_proj``. ``nnx.MultiHeadAttention``
    keeps three (in, heads, head_dim) kernels instead: porting torch's weights into it means splitting
    and reshaping, and transposing them is the classic silent bug."""

    def __init__(self, rngs: nnx.Rngs):
        self.in_proj_weight = nnx.Param(jnp.zeros((3 * D_MODEL, D_MODEL)))
        self.in_proj_bias = nnx.Param(jnp.zeros((3 * D_MODEL,)))
        self.out_proj = convert.linear(D_MODEL, D_MODEL, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        b, t, _ = x.shape
        w = self.in_proj_weight[...]
        w = w.T.reshape(w.shape) if BUG == "transposed_in_proj" else w  # the planted bug: W read transposed
        q, k, v = jnp.split(x @ w.T + self.in_proj_bias[...], 3, axis=-1)
        heads = lambda a: a.reshape(b, t, HEADS, D_MODEL // HEADS).transpose(0, 2, 1, 3)  # (B, H, T, hd)
        q, k, v = heads(q), heads(k), heads(v)
        scores = q @ k.transpose(0, 1, 3, 2) / jnp.sqrt(jnp.asarray(D_MODEL // HEADS, q.dtype))
        out = jax.nn.softmax(scores, axis=-1) @ v
        return self.out_proj(out.transpose(0, 2, 1, 3).reshape(b, t, D_MODEL))


class EncoderLayer(nnx.Module):
    """``nn.TransformerEncoderLayer`` with its defaults: post-norm (``norm_first=False``), ReLU, and
    ``layer_norm_eps=1e-5``: flax's ``nnx.LayerNorm`` defaults to ``epsilon=1e-6``."""

    def __init__(self, rngs: nnx.Rngs):
        eps = 1e-6 if BUG == "layernorm_eps" else 1e-5  # the planted bug keeps flax's default
        self.self_attn = SelfAttention(rngs)
        self.linear1 = convert.linear(D_MODEL, FF, rngs=rngs)
        self.linear2 = convert.linear(FF, D_MODEL, rngs=rngs)
        self.norm1 = nnx.LayerNorm(D_MODEL, epsilon=eps, rngs=rngs)
        self.norm2 = nnx.LayerNorm(D_MODEL, epsilon=1e-5, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = self.norm1(x + self.self_attn(x))
        return self.norm2(x + self.linear2(nnx.relu(self.linear1(x))))


class Encoder(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.layers = nnx.List([EncoderLayer(rngs) for _ in range(LAYERS)])  # torch's key: encoder.layers.0...

    def __call__(self, x: jax.Array) -> jax.Array:
        for layer in self.layers:
            x = layer(x)
        return x


class Model(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.embed = convert.linear(FEATURES, D_MODEL, rngs=rngs)
        self.encoder = Encoder(rngs)
        self.head = convert.linear(D_MODEL, 1, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.head(self.encoder(self.embed(x)).mean(axis=1))


def make_data(steps: int = 60, batch: int = 16) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((steps, batch, T, FEATURES))
    w = rng.standard_normal(FEATURES) / np.sqrt(FEATURES)
    return {"x": x, "y": ((x @ w).mean(axis=2, keepdims=True)) ** 2}


EXAMPLE = check.example(
    torch_model=TorchModel, nnx_model=Model, loss="mse",
    optimizer=lambda params: torch.optim.AdamW(params, lr=1e-3),
    data=make_data(), batches=True, steps=60, print_every=20,
    name="transformer_encoder" + (f"[{BUG}]" if BUG else ""), id="P01",
    sequential_attr=None,  # torch's TransformerEncoder keeps "layers" in its keys
)
