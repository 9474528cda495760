"""E26 reference: the seed's NumPy ``LinearRegression``, as written, with explicit initial values.

Changes from the seed: ``weights`` and ``bias`` come in as arguments instead of ``np.random.randn``;
``predict`` multiplies by ``self.weights.T`` (the seed's ``X @ self.weights`` raises for its own
``LinearRegression(3, 1)``: weights are (num_outputs, num_inputs)); the data comes in (the same arrays
JAX gets). The MSE gradient by the chain rule over ``get_gradients`` is added: what the seed's
"from scratch" model would need to train.
"""

from collections.abc import Mapping

import numpy as np

FRAMEWORK = "numpy"


# phase: other
class LinearRegression:
    def __init__(self, num_inputs, num_outputs, weights=None, bias=None):
        # seed: self.weights = np.random.randn(num_outputs, num_inputs); self.bias = np.random.randn(num_outputs)
        self.weights = np.random.randn(num_outputs, num_inputs) if weights is None else weights
        self.bias = np.random.randn(num_outputs) if bias is None else bias

    def predict(self, X):
        return X @ self.weights.T + self.bias  # seed: X @ self.weights + self.bias

    def get_gradients(self, X):
        grad_w = X
        grad_b = 1
        return grad_w, grad_b


# phase: gradients
def mse_gradients(model: LinearRegression, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """dL/dweights and dL/dbias of ``mean((predict(X) - y)**2)``, by the chain rule over ``get_gradients``."""
    grad_pred = 2 * (model.predict(X) - y) / X.shape[0]  # dL/dprediction, (N, 1)
    grad_w, grad_b = model.get_gradients(X)
    return grad_pred.T @ grad_w, (grad_pred * grad_b).sum(axis=0)


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    if device != "cpu":
        from jaxport.errors import UsageError

        raise UsageError(f"E26's reference is NumPy, which runs on the cpu only (got --device {device})")
    X, y = data["X"], data["y"]
    n_out, n_in = params["weights"].shape
    model = LinearRegression(n_in, n_out, weights=params["weights"], bias=params["bias"])
    grad_w, grad_b = model.get_gradients(X)
    loss_grad_w, loss_grad_b = mse_gradients(model, X, y)
    return {
        "prediction": model.predict(X),
        "grad_w": np.asarray(grad_w),
        "grad_b": np.asarray(grad_b, dtype=X.dtype),  # the seed's int 1, as a float value
        "loss": np.mean((model.predict(X) - y) ** 2),
        "loss_grad.weights": loss_grad_w,
        "loss_grad.bias": loss_grad_b,
    }
