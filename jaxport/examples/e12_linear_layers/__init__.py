"""E12 linear_layers: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
