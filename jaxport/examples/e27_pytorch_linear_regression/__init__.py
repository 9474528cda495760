"""E27 pytorch_linear_regression: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
