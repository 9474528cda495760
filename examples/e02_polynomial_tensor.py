"""E02: the seed's torch tensors on a device, ported with jax.devices and device_put.

    python examples/e02_polynomial_tensor.py                 # the JAX port, printing the seed's lines
    python examples/e02_polynomial_tensor.py --framework torch --device cpu   # the reference, for side-by-side reading
    python examples/e02_polynomial_tensor.py --seed 3 --steps 500 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e02_polynomial_tensor.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E02", *sys.argv[1:]]))
