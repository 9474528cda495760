"""E11 computation_graph: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
