"""E13 mycoolnet: the JAX counterpart of seed 001's "Using Module to Build a Network; Minimizing a Loss" script.

The seed's ``MyCoolNet`` and ``optim.SGD(momentum=0.8)`` own mutable state: weights, ``.grad``, the
momentum buffers. Here the module is a flax nnx module used the functional way: the training state is
a flat dict of torch-named arrays plus SGD's buffers (``momentum_buffer.lin1.weight``, ...); the pure
step builds the module from it, differentiates through it and returns new arrays and buffers. Nothing
is zeroed, nothing is mutated.

The port (the seed's code beside it: reference.py): jaxport/examples/e13_mycoolnet/port.py.
The loop, the same for every training script: examples/_loop.py.

Run: python examples/e13_mycoolnet.py (the same lines as jaxport run E13)
"""

from _loop import train

from jaxport.examples.e13_mycoolnet.port import EXAMPLE

if __name__ == "__main__":
    train(EXAMPLE)  # each step: MyCoolNet merged from torch-named arrays, SGD's momentum buffers in the state
