"""E20 finetune_freeze: the JAX counterpart of seed 003's "freezing params" script.

The seed freezes a ResNet-18 with ``requires_grad = False`` and replaces its ``fc``. A JAX parameter has
no such flag: what is frozen is what you do not differentiate. The new ``fc`` is the only argument of
``jax.value_and_grad``; the backbone is a constant handed in with the data, so no gradient is computed
for it and it cannot change. BatchNorm's buffers still move in train mode, as torch's do: they are
carried in the training state.

The port (the seed's code beside it: reference.py): jaxport/examples/e20_finetune_freeze/port.py.
The loop, the same for every training script: examples/_loop.py.

Run: python examples/e20_finetune_freeze.py (the same lines as jaxport run E20)
"""

from _loop import train

from jaxport.examples.e20_finetune_freeze.port import EXAMPLE

if __name__ == "__main__":
    train(EXAMPLE)  # each step: gradients of the new fc alone; the frozen backbone is a constant
