"""What E01–E04 share: the seed's data, its four scalar parameters, and its settings' shape."""

from dataclasses import dataclass

import numpy as np

from jaxport.data import sine_data
from jaxport.spec import Positive

# The seeds' parameters, in the order they draw them: y = a + b x + c x^2 + d x^3.
SHAPES: dict[str, tuple[int, ...]] = {"a": (), "b": (), "c": (), "d": ()}


@dataclass(frozen=True)
class PolynomialConfig:
    """Settings of the polynomial ladder; each module's instance carries its seed's values."""

    steps: Positive = 2000  # seed: `for t in range(2000)`
    lr: float = 1e-6  # seed: `learning_rate = 1e-6`
    dtype: str = "float32"  # seed: `dtype = torch.float`
    print_every: Positive = 100  # seed: `if t % 100 == 99: print(...)`


def make_data(cfg: PolynomialConfig) -> dict[str, np.ndarray]:
    """``x = torch.linspace(-pi, pi, 2000)``, ``y = torch.sin(x)`` in ``cfg.dtype``: the seeds' own bits
    (:func:`jaxport.data.sine_data`), the same for both frameworks."""
    return sine_data(cfg.dtype)


def make_numpy_data(cfg: PolynomialConfig) -> dict[str, np.ndarray]:
    """E01's seed makes its data with NumPy: ``np.linspace(-pi, pi, 2000)``, ``np.sin(x)`` (float64)."""
    return sine_data(cfg.dtype, made_by="numpy")


def scalar(v) -> float:
    """A 0-d value as a Python float, as torch's ``.item()`` gives it."""
    return float(np.asarray(v))
