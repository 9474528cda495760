"""E19 blitz_training_step: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
