# The seed's own script, verbatim from ../shared/seeds/000_0dbc935b699361fa.txt, section "Defining new Autograd functions"
# (trailing spaces stripped); run by parity_tests/test_seed_scripts.py with its initial values given; never imported.
# -*- coding: utf-8 -*-
import torch
import math

# create a new class of torch.autograd.Function by passing that function to the new class
# the class will have everything that torch.autograd.Function usually has
# but we will overwrite some specific functions to be what we want
# specifically, we are only overwriting the forward and backwards ones
class LegendrePolynomial3(torch.autograd.Function):
    """
    We can implement our own custom autograd Functions by subclassing
    torch.autograd.Function and implementing the forward and backward passes
    which operate on Tensors.
    """

    @staticmethod
    def forward(ctx, input):
        """
        In the forward pass we receive a Tensor containing the input and return
        a Tensor containing the output. ctx is a context object that can be used
        to stash information for backward computation. You can cache arbitrary
        objects for use in the backward pass using the ctx.save_for_backward method.
        """
        # save the input that we're about to feed in for later
        # both forward and backwards receive ctx, though it's not a self variable
        # Torch must know to pass it to and from when it calls these two functions
        # this `ctx` probably only available for this 'network' that calculates the P3 portion
        ctx.save_for_backward(input)
        # Compute the value of P_3 from the input ( which will be (c+dx) )
        # this 'network' only computes the 'P_3' chunk of the graph
        # so all we need to do is establish how you calculate 'P_3(t)' from 't' here
        # P_3(t)=(1/2)(5t^3-3t)
        return 0.5 * (5 * input ** 3 - 3 * input) # create the output from the input

    @staticmethod
    def backward(ctx, grad_output):
        """
        In the backward pass we receive a Tensor containing the gradient of the loss
        with respect to the output, and we need to compute the gradient of the loss
        with respect to the input.
        """
        # backward receives grad_output Tensor
        #   it contains the gradient of the Loss with respect to the output of this network
        #   this 'network' consists only of the 'P_3(t)' portion
        # in essence, that means it will contain all the chain rule stuff from after this network
        #   the a and b part of y_pred = a + b * P3(c + d * x)
        #   the part from loss = (y_pred - y).pow(2).sum()
        # but it won't be able to go past this P3 thing to get the gradient with respect to c and d
        #   since those are the inputs to this 'network'
        #   we need to give it the chain rule chunk for the P3 portion of the network
        #   so it can calculate the derivatives with respect to weights behind this network
        # so our custom autograd is telling our 'network' that calculates P3
        #   how to calculate P3(t) on the forward pass
        #   how to do the chunk of chain rule between output ( P_3(t) ) and input ( t )
        #   that way when we're trying to get the gradients for c and d,
        #   it can use the 'chain rule chunk' from this P3 portion to get to them
        # calculate the gradient of this networks output ( P_3(t) ) and input ( t )
        #         P_3(t)=(1/2)(5t^3-3t)
        #               =(5/2)t^3-(3/2)t
        #   {d/dt}P_3(t)=(15/2)t^2-(3/2)
        #               =(3/2)(5t^2-1)
        #               =(3/2)(5t^2-1)
        #     {dLoss/dt}={dLoss/dP_3(t)}{dP_3(t)/dt}
        #               ={dLoss/dP_3(t)}(3/2)(5t^2-1)
        #               =grad_output *  (3/2)(5t^2-1)

        # retrieve the input (x) from the ctx saved Tensor
        input, = ctx.saved_tensors
        # take grad_output, the gradient of everything that happened after this networks output
        # apply the gradient of everything that happens in this network to it
        # return that so that whatever's behind this in the network
        # will have the gradient of the Loss with respect to its output
        return grad_output * 1.5 * (5 * input ** 2 - 1)


# select the datatype for the Tensors and what device we want to run calculations on
dtype = torch.float
device = torch.device("cpu")
# device = torch.device("cuda:0")  # Uncomment this to run on GPU

# Create Tensors to hold input and outputs.
# By default, requires_grad=False, which indicates that we do not need to
# compute gradients with respect to these Tensors during the backward pass.
# we allow these to use requires_grad=False since we will not be adjusting these
# and therefore don't need their gradients
x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

# Create random Tensors for weights. For this example, we need
# 4 weights: y = a + b * P3(c + d * x), these weights need to be initialized
# not too far from the correct result to ensure convergence.
# Setting requires_grad=True indicates that we want to compute gradients with
# respect to these Tensors during the backward pass.
# we set requires_grad=True for the since we will need gradients to adjust them
# previously we initialized them with random numbers using torch.randn
# but polynomials tend to explode with this stuff instead of converging,
# so they need to be initialized closer to final values and we fill them with 0,-1,0,0.3
a = torch.full((),  0.0, device=device, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
c = torch.full((),  0.0, device=device, dtype=dtype, requires_grad=True)
d = torch.full((),  0.3, device=device, dtype=dtype, requires_grad=True)

# wow. That's a tiny learning rate.
learning_rate = 5e-6
for t in range(2000):
    # To apply our Function, we use Function.apply method. We alias this as 'P3'.
    # oh hey look it's the name of our Class from a minute ago
    # .apply must tell it to call forward from the class when its called
    # it probably
    P3 = LegendrePolynomial3.apply

    # Forward pass: compute predicted y using operations;
    # we compute P3 using our custom autograd operation
    # this will also save it to the graph so Torch knows how to do the backwards pass
    y_pred = a + b * P3(c + d * x)

    # Compute and print loss
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print("Step:", t, "Loss:", loss.item())

    # Use autograd to compute the backward pass.
    # It will have saved the path through the other Tensors to get to the Loss
    # so now it will retrace its steps to get the gradient of each chunk in the process
    loss.backward()

    # Update weights using gradient descent
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad

        # Manually zero the gradients after updating weights
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None

print(f'Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)')
