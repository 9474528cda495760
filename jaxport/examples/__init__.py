"""One module per catalog example (E01–E29), in the seeds' order, each with its reference beside it.

Example ENN lives in the folder ``eNN_name/``: its JAX port ``port.py`` is a handful of pure functions and one spec:

- ``predict(params, x)``, ``loss_and_grad(params, data) -> (loss, grads)``;
- ``step(params, data, t, cfg) -> (params, aux)``: one training step, ``aux["loss"]`` the loss
  before the update (as the seeds print it), plus whatever the seed's periodic line shows;
- ``CONFIG``: a frozen config whose defaults are the seed's settings;
- ``EXAMPLE = Example(...)``: what the harness, the training loop and the CLI need.

Its reference ``reference.py`` beside it (E01 and E26: the seed's NumPy) is the
seed's code with explicit initial values, exposing ``FRAMEWORK`` and
``train(params, data, cfg, *, device, record, report) -> RefRun``.

From Python::

    from jaxport.examples.e03_polynomial_autograd import port as e03
    result = e03.EXAMPLE.train(e03.EXAMPLE.init(seed=0))   # prints the seed's lines
    result.params, result.losses
"""
