"""One module per catalog example (E01–E29), in the seeds' order, each with its reference beside it.

Example ENN lives in the folder ``eNN_name/``: its JAX port ``port.py`` is a handful of pure
functions cut by ``# phase:`` markers (``predict``, ``loss_and_grad(params, data) -> (loss, grads)``,
the seed's printed lines), a frozen ``CONFIG`` whose defaults are the seed's settings, and one
``EXAMPLE = TrainingExample(...)`` or ``ValuesExample(...)`` (:mod:`jaxport.spec`). Its reference
``reference.py`` beside it is the seed's code with explicit initial values (torch; the seed's NumPy
for E01 and E26), exposing ``FRAMEWORK`` and ``train(...) -> RefRun`` or ``values(...)``.

From Python::

    from jaxport.examples.e03_polynomial_autograd import port as e03
    from jaxport import training
    result = training.train(e03.EXAMPLE, e03.EXAMPLE.init(seed=0), report=print)   # prints the seed's lines
    result.params, result.losses
"""
