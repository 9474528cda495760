"""E20 finetune_freeze: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
