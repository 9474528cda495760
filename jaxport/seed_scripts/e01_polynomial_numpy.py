# The seed's own script, verbatim from ../shared/seeds/000_0dbc935b699361fa.txt, section "Without Pytorch: Numpy Network"
# (trailing spaces stripped); run by parity_tests/test_seed_scripts.py with its initial values given; never imported.
# -*- coding: utf-8 -*-
import numpy as np
import math

# Create random input and output data
x = np.linspace(-math.pi, math.pi, 2000)
y = np.sin(x)

# Randomly initialize weights
a = np.random.randn()
b = np.random.randn()
c = np.random.randn()
d = np.random.randn()

# multiply by the gradient to determine how much to update them each round
learning_rate = 1e-6

# train for 2000 rounds. 't'
for t in range(2000):
    # Forward pass: compute predicted y
    # y = a + b x + c x^2 + d x^3
    y_pred = a + b * x + c * x ** 2 + d * x ** 3

    # Compute loss by squaring the difference between the prediction and the true value
    # didn't divide it by the number of points either
    loss = np.square(y_pred - y).sum()

    #print the loss at 99 steps and every 100 after that
    if t % 100 == 99:
        print("step:", t,"loss:", loss)

    # Backprop to compute gradients of a, b, c, d with respect to loss

    # multiply the error between prediction and true by 2. Will be an array of 2000 errors
    grad_y_pred = 2.0 * (y_pred - y)
    # calculate the gradients of the loss with respect to each weight and sum up into one value
    grad_a = grad_y_pred.sum()
    grad_b = (grad_y_pred * x).sum()
    grad_c = (grad_y_pred * x ** 2).sum()
    grad_d = (grad_y_pred * x ** 3).sum()

    # Update weights, subtracting the gradient multiplied by the learning rate
    a -= learning_rate * grad_a # NOTE - gradient is the direction of greatest increase to a function
    b -= learning_rate * grad_b # we want to decrease the function (loss)
    c -= learning_rate * grad_c # so we subtract our gradients
    d -= learning_rate * grad_d

print(f'Result: y = {a} + {b} x + {c} x^2 + {d} x^3')
