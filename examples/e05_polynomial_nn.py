"""E05: the seed's nn.Sequential network, ported as a flax nnx.Sequential trained by a pure step.

    python examples/e05_polynomial_nn.py                 # the JAX port, printing the seed's lines
    python examples/e05_polynomial_nn.py --framework torch   # the reference, for side-by-side reading
    python examples/e05_polynomial_nn.py --seed 3 --steps 500 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e05_polynomial_nn.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E05", *sys.argv[1:]]))
