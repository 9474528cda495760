# The seed's own script, verbatim from ../shared/seeds/000_0dbc935b699361fa.txt, section "PyTorch's Optim Package"
# (trailing spaces stripped); run by parity_tests/test_seed_scripts.py with its initial values given; never imported.
# -*- coding: utf-8 -*-
import torch
import math


# Create Tensors to hold input and outputs with dimensions (2000)
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

# Prepare the input tensor (x, x^2, x^3) as before, with dimensions (2000,3)
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

# Use the nn package to define our model and loss function
model = torch.nn.Sequential( # Create a Sequential Module
    torch.nn.Linear(3, 1), # add a Linear Module to apply weights and biases, sum up and compute a y_pred (2000,1) Tensor
    torch.nn.Flatten(0, 1) # add a Flatten Module flatten the y_pred tensor from (2000,1) to (2000) to match the true y tensor
)

# Create a module for the Loss, summing up the MSE errors of each of the 2000 point by comparing the y_pred and y Tensors
loss_fn = torch.nn.MSELoss(reduction='sum')

# Use the optim package to define an Optimizer that will update the weights of
# the model for us. Here we will use RMSprop; the optim package contains many other
# optimization algorithms. The first argument to the RMSprop constructor tells the
# optimizer which Tensors it should update.
learning_rate = 1e-3
# tell it to update the parameters of the model and use the learning rate
optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)

# go through 2000 steps of model updating
for t in range(2000):
    # Forward pass: compute predicted y by passing x to the model.
    y_pred = model(xx)

    # Compute and print loss.
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        print("Step:", t, "Loss:", loss.item())

    # Before the backward pass, use the optimizer object to zero all of the
    # gradients for the variables it will update (which are the learnable
    # weights of the model). This is because by default, gradients are
    # accumulated in buffers( i.e, not overwritten) whenever .backward()
    # is called. Checkout docs of torch.autograd.backward for more details.
    optimizer.zero_grad()

    # Backward pass: compute gradient of the loss with respect to model parameters
    loss.backward()

    # Calling the step function on an Optimizer makes an update to its parameters
    optimizer.step()

# get the linear layer so we can grab its learnable parameters - it's the 0th layer of the model (the 1st layer is that flattening one)
linear_layer = model[0]
print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + {linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
