"""E21 cifar_cnn: the JAX counterpart of seed 003's "torch.nn pkg" script.

Layouts: torch holds images NCHW and conv weights OIHW; flax's ``nnx.Conv`` works in NHWC with HWIO
kernels (and pads 'SAME', ``nnx.max_pool`` strides 1, by default). The parameters stay torch's flat dict;
the flax ``Net`` transposes the input once, converts the kernels, and puts the features back in C, H, W
order before ``fc1``, as ``torch.flatten(x, 1)`` flattens them. Each mini-batch is one step of the
compiled ``lax.scan``; each epoch's shuffle is drawn up front, as in E28.

The port (the seed's code beside it: reference.py): jaxport/examples/e21_cifar_cnn/port.py.
The loop, the same for every training script: examples/_loop.py.

Run: python examples/e21_cifar_cnn.py (the same lines as jaxport run E21)
"""

from _loop import train

from jaxport.examples.e21_cifar_cnn.port import EXAMPLE

if __name__ == "__main__":
    train(EXAMPLE)  # each step: torch's layouts kept in the state, flax's inside the step
