"""E15 adam_lookahead: the JAX counterpart of seed 001's "Modern Optimizers" script.

torch's Adam keeps ``exp_avg``, ``exp_avg_sq`` and ``step`` in ``optimizer.state``, and a LookAhead
wrapper keeps slow weights beside it, all mutated by ``step()``. Here the optimizer is one optax
transformation, ``optim.lookahead(optim.adam(...))``, whose whole state (Adam's buffers, the slow
weights, the counters) is part of the training state under torch's names: the pure step takes it in
and returns it.

The port (the seed's code beside it: reference.py): jaxport/examples/e15_adam_lookahead/port.py.
The loop, the same for every training script: examples/_loop.py.

Run: python examples/e15_adam_lookahead.py (the same lines as jaxport run E15)
"""

from _loop import train

from jaxport.examples.e15_adam_lookahead.port import EXAMPLE

if __name__ == "__main__":
    train(EXAMPLE)  # each step: optim.lookahead(optim.adam(...)): one optax transformation
