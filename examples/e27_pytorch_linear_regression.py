"""E27: the seed's PyTorchLinearRegression as a flax module; .grad as returned values.

    python examples/e27_pytorch_linear_regression.py                 # the JAX port, printing the seed's cells
    python examples/e27_pytorch_linear_regression.py --framework torch   # the reference, for side-by-side reading
    python examples/e27_pytorch_linear_regression.py --seed 3 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e27_pytorch_linear_regression.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E27", *sys.argv[1:]]))
