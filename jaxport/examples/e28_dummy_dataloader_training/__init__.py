"""E28 dummy_dataloader_training: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
