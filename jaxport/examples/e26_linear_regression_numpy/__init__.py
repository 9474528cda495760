"""E26 linear_regression_numpy: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
