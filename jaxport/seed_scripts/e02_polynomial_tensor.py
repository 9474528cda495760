# The seed's own script, verbatim from ../shared/seeds/000_0dbc935b699361fa.txt, section "Adding Pytorch: Tensors"
# (trailing spaces stripped); run by parity_tests/test_seed_scripts.py with its initial values given; never imported.
# -*- coding: utf-8 -*-

import torch
import math

dtype = torch.float # set the datatype for the new Tensors to store to be torch floats
device = torch.device("cpu") # set to use the cpu
# device = torch.device("cuda:0") # Uncomment this to run on GPU

# Create random input and output data
x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype) # <- create the 2000
y = torch.sin(x) # <- define the 2000 true points in the established range

# Randomly initialize weights and put the tensor on the device
a = torch.randn((), device=device, dtype=dtype)
b = torch.randn((), device=device, dtype=dtype)
c = torch.randn((), device=device, dtype=dtype)
d = torch.randn((), device=device, dtype=dtype)

learning_rate = 1e-6
for t in range(2000):

    ################
    # Forward pass # compute prediction
    ################ compute loss

    # compute predicted y
    y_pred = a + b * x + c * x ** 2 + d * x ** 3

    # Compute and print loss
    loss = (y_pred - y).pow(2).sum().item()
    if t % 100 == 99:
        print(t, loss)

    ##################
    # Backwards Pass # calculate gradients
    ################## update weights

    # Backprop to compute gradients of a, b, c, d with respect to loss
    grad_y_pred = 2.0 * (y_pred - y)
    grad_a = grad_y_pred.sum()
    grad_b = (grad_y_pred * x).sum()
    grad_c = (grad_y_pred * x ** 2).sum()
    grad_d = (grad_y_pred * x ** 3).sum()

    # Update weights using gradient descent
    a -= learning_rate * grad_a
    b -= learning_rate * grad_b
    c -= learning_rate * grad_c
    d -= learning_rate * grad_d

print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
print(f'Final Loss: {loss}')
