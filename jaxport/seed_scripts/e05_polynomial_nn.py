# The seed's own script, verbatim from ../shared/seeds/000_0dbc935b699361fa.txt, section "Pytorch's `nn` module"
# (trailing spaces stripped); run by parity_tests/test_seed_scripts.py with its initial values given; never imported.
# -*- coding: utf-8 -*-
import torch
import math

# Create Tensors to hold input and outputs. Both will be 2000-element 1D Tensors
x = torch.linspace(-math.pi, math.pi, 2000)
print("x tensor of inputs x, shape:", x.shape, "contents:\n",x)
y = torch.sin(x)
print("y tensor of true outputs y, shape:", y.shape, "contents:\n",y)

# For this example, the output y is a linear function of (x, x^2, x^3), so
# we can consider it as a linear layer neural network. Let's prepare the
# tensor of (x, x^2, x^3) values
p = torch.tensor([1, 2, 3])
print("p tensor of powers (x,x^2,x^3), shape:", p.shape, "contents:\n",p)
# unsqeeze(-1) adds a new dimension after the last index, so it adds 1 after (2000) to get (2000,1)
# use x.unsqueeze(-1) to convert the x tensor of shape (2000) with 2000 linearly-spaced x-values
# Raise it to the power of the p-tensor [1, 2, 3] of shape (3,1)
# this will broadcast the shape of x.unsqueeze(-1) from (2000,1) to (2000,3)
# (basically copying the column over three times)
# then raise each element to the appropriate power from the same column of p
xx = x.unsqueeze(-1).pow(p)
print("xx tensor of x,x^2,x^3-values, shape:", xx.shape, "contents:\n",xx)
# In the above code, x.unsqueeze(-1) has shape (2000, 1), and p has shape
# (3,), for this case, broadcasting semantics will apply to obtain a tensor
# of shape (2000, 3)

# Use the nn package to define our model as a sequence of layers. nn.Sequential
# is a Module which contains other Modules, and applies them in sequence to
# produce its output. The Linear Module computes output from input using a
# linear function, and holds internal Tensors for its weight and bias.
# The Flatten layer flattens the output of the linear layer to a 1D tensor,
# to match the shape of `y`
model = torch.nn.Sequential( # create Sequential nn Module containing other nn Modules
    # add a Linear nn Module
    # This will take the input Tensor (we will give it the (2000,3) Tensor with columns of [x, x^2, x^3] values)
    # and produce an output Tensor of (2000,1) y_pred=a1 x + a2 x^2 + a3 x^3 + b values
    # Linear will automatically incorporate the weights and biases (it defaults to bias=True)
    # Linear will apply a linear transformation of y = xA^T + b to the incoming data
    # A^T is the (3,1) transpose of the (1,3) weights Tensor containing the weights for x^1, x^2, x^3
    # b is the bias Tensor, it only contains 1 element
    # so xA^T -> (2000,3)(3,1) -> (2000,1) <- it is multiplying a1 by each x entry, a2 by each x^2 entry, etc and then adding the columns up
    #    xA^T + b -> (2000,1) + (1) = (2000,1) <- adding a scalar to a Tensor should just add it element by element
    # so its outputting a (2000,1) Tensor of y_pred values, one y_pred per each of the 2000 input x samples
    # in_features = 3, out_features=1, meaning it will take 3 inputs (x,x^2,x^3) and deliver 1 output (y_pred)
    torch.nn.Linear(3, 1), # nn Module to perform linear transformation
    # but wait, y and y_pred will be 1D tensors of size (2000), not (2000,1)
    # so flatten this result into a 1D tensor of size (2000)
    torch.nn.Flatten(0, 1) # nn Module to flatten the output into a 1D Tensor to look like y and y_pred
)

# The nn package also contains definitions of popular loss functions; in this
# case we will use Mean Squared Error (MSE) as our loss function.
# this will do the 'loss = (y_pred - y).pow(2).sum()' bit
loss_fn = torch.nn.MSELoss(reduction='sum')

learning_rate = 1e-6
for t in range(2000):

    # Forward pass: compute predicted y by passing x to the model.
    # Module objects override the __call__ operator so you can call them like functions.
    # When doing so you pass a Tensor of input data to the Module
    # and it produces a Tensor of output data, y_pred, which is 2000 elements long
    # interestingly, it seems to be back to being shape (2000) all in one row instead of one column
    y_pred = model(xx)

    # Compute and print loss. We pass Tensors containing the predicted and true
    # values of y, and the loss function returns a Tensor containing the loss.
    loss = loss_fn(y_pred, y)
    # print the loss at step 99 and every 100 after that
    if t % 1000 == 99:
        print("Step:", t, "Loss:", loss.item())

    # Zero the gradients before running the backward pass.
    # Would it just add new grads onto it otherwise?
    # I guess that would fit with chain rule
    model.zero_grad()

    # Backward pass: compute gradient of the loss with respect to all the learnable
    # parameters of the model. Internally, the parameters of each Module are stored
    # in Tensors with requires_grad=True, so this call will compute gradients for
    # all learnable parameters in the model.
    loss.backward()

    # Update the weights using gradient descent. Each parameter is a Tensor, so
    # we can access its gradients like we did before.
    # NOTE - we always use no_grad for these
    # is that so we don't store the gradients when we do this?
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad

# You can access the first layer of `model` like accessing the first item of a list
linear_layer = model[0]

# For linear layer, its parameters are stored as `weight` and `bias`.
print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + {linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
print(f'Final Loss: {loss}')
print("y_pred tensor, shape:", y_pred.shape, "contents:\n",y_pred)
# try and print out the gradients
print('printing named parameter data')
with torch.no_grad():
    for name, param in model.named_parameters():
        if param.requires_grad:
            print("param name:", name, "data:", param.data, "grad", param.grad)
