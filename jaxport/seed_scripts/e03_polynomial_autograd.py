# The seed's own script, verbatim from ../shared/seeds/000 (timed by `jaxport bench --startup`; never imported).
# -*- coding: utf-8 -*-
import torch
import math

dtype = torch.float # <- assign the type of data to store in the Tensors
#device = "cuda" if torch.cuda.is_available() else "cpu" # <- use a CUDA gpu if it's available
#torch.set_default_device(device) # <- can set the default device instead of setting it every time we initiate a Tensor
# NOTE that didn't work for my version of torch, I guess set_default_device is an older way.
# looks like I can still run torch without specifying device though

# Create Tensors to hold input and outputs.
# By default, requires_grad=False, which indicates that we do not need to
# compute gradients with respect to these Tensors during the backward pass.
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)

# Create random Tensors for weights. For a third order polynomial, we need
# 4 weights: y = a + b x + c x^2 + d x^3
# Setting requires_grad=True indicates that we want to compute gradients with
# respect to these Tensors during the backward pass.
a = torch.randn((), dtype=dtype, requires_grad=True)
b = torch.randn((), dtype=dtype, requires_grad=True)
c = torch.randn((), dtype=dtype, requires_grad=True)
d = torch.randn((), dtype=dtype, requires_grad=True)

learning_rate = 1e-6
for t in range(2000):

    ################ compute prediction and loss - this is the forward pass
    # Forward Pass # that will tell Torch what the structure of the network is
    ################ the 'loss' tensor basically IS the network at that point

    # Forward pass: compute predicted y using operations on Tensors.
    y_pred = a + b * x + c * x ** 2 + d * x ** 3

    # Compute and print loss using operations on Tensors.
    # Now loss is a Tensor of shape (1,)
    # loss.item() gets the scalar value held in the loss.
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        pass
        #print("Step:", t, "Loss:", loss.item())

    ################## compute the gradients of each of the weights of the network
    # Backwards Pass # loss.backward() will use knowledge of the network set up by the forward pass
    ################## and go backwards through it, determining gradients of each weight (but not changing them)

    # Use autograd to compute the backward pass. This call will compute the
    # gradient of loss with respect to all Tensors with requires_grad=True.
    # After this call a.grad, b.grad. c.grad and d.grad will be Tensors holding
    # the gradient of the loss with respect to a, b, c, d respectively.
    loss.backward()

    ####################
    # Update Gradients #
    ####################

    # Manually update weights using gradient descent. Wrap in torch.no_grad()
    # because weights have requires_grad=True, but we don't need to track this
    # in autograd.
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad

        if t % 100 == 99:
            # print the gradients!
            # NOTE - gradients are Tensors. I don't think I could do this f-string stuff if the Tensors were bigger than 1x1
            print(f'Step: {t} Loss: {loss.item()} a.grad: {a.grad} b.grad: {b.grad} c.grad: {c.grad} d.grad: {d.grad}')

        # Manually zero the gradients after updating weights
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None

print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
print(f'Final Loss: {loss}')
