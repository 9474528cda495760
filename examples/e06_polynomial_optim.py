"""E06: the seed's optim-package network (RMSprop), ported with jaxport.optim.rmsprop (torch's semantics).

    python examples/e06_polynomial_optim.py                    # the JAX port, printing the seed's lines
    python examples/e06_polynomial_optim.py --framework torch  # the reference, for side-by-side reading
    jaxport compare E06 --dtype both --plot e06.png            # the chaotic free run, shown

Every flag of `jaxport run` works here; the port is jaxport/examples/e06_polynomial_optim.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E06", *sys.argv[1:]]))
