"""jaxport: PyTorch's beginner examples, ported functionally to JAX and proven against PyTorch.

Importing jaxport changes no global JAX setting. The CLI and the test suite call
:func:`jaxport.enable_x64` before any array exists so that one process can run float32 and float64;
library functions always take explicit dtypes.
"""

from jaxport._config import cpu_threads_from_env, enable_compilation_cache, enable_x64, limit_cpu_threads

__all__ = ["cpu_threads_from_env", "enable_compilation_cache", "enable_x64", "limit_cpu_threads"]
__version__ = "0.1.0"
