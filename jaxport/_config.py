"""Process-wide JAX settings jaxport relies on."""

import jax


def enable_x64() -> None:
    """Let JAX hold float64 arrays. Call before any array exists (the CLI and conftest do).

    float32 work stays float32: every jaxport array is created with an explicit dtype.
    """
    jax.config.update("jax_enable_x64", True)
