"""E02: the JAX port of the seed's torch-tensor network (hand gradients, on a device)."""

import numpy as np
import pytest

from jaxport import params
from jaxport.examples.e02_polynomial_tensor import port as e02

from _helpers import assert_parity


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e02.EXAMPLE, dtype, device)


def test_place_puts_every_array_on_the_device(device):
    data = e02.place(e02.EXAMPLE.make_data(e02.CONFIG), device)
    where = e02.placement(data)
    assert set(where) == {"x", "y"}
    assert all(device in w.lower() or (device == "gpu" and "cuda" in w.lower()) for w in where.values()), where


def test_step_runs_where_its_inputs_live(device):
    data = e02.place(e02.EXAMPLE.make_data(e02.CONFIG), device)
    p = e02.place(params.cast(params.draw(e02.EXAMPLE.param_shapes, 1), "float32"), device)
    new, aux = e02.step(p, data, np.int32(0), e02.CONFIG)
    assert e02.placement(new) == e02.placement(p)
