"""E07: the seed's custom nn.Module (Polynomial3), ported as an nnx.Module with torch-exact SGD.

    python examples/e07_polynomial_module.py                 # the JAX port, printing the seed's lines
    python examples/e07_polynomial_module.py --framework torch   # the reference, for side-by-side reading
    python examples/e07_polynomial_module.py --seed 3 --steps 500 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e07_polynomial_module.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E07", *sys.argv[1:]]))
