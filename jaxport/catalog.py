"""The 29 catalog examples (E01–E29) of the five seed documents, and which are implemented.

An example is named by its id or its name: ``E03``, ``e03`` and ``polynomial_autograd`` are the same.
"""

import dataclasses
import importlib
import importlib.util
import os
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from jaxport.errors import UsageError
from jaxport.spec import Example


@dataclass(frozen=True)
class Entry:
    id: str
    name: str
    seed: str  # seed document
    section: str  # section of that document
    idiom: str  # the JAX idiom it teaches

    @property
    def package(self) -> str:
        """The example's folder as a package: ``jaxport.examples.e03_polynomial_autograd``."""
        return f"jaxport.examples.{self.id.lower()}_{self.name}"

    @property
    def module(self) -> str:
        """The JAX port: ``<package>.port``."""
        return f"{self.package}.port"

    @property
    def reference(self) -> str:
        """The reference beside it (torch, or the seed's NumPy for E01 and E26): ``<package>.reference``."""
        return f"{self.package}.reference"


_S0, _S1, _S2, _S3, _S4 = (
    "000 Learning PyTorch with Examples",
    "001 Introduction to PyTorch",
    "002 Lesson 4, Fashion-MNIST",
    "003 60-minute blitz notes",
    "004 Understanding PyTorch",
)

CATALOG: tuple[Entry, ...] = (
    Entry("E01", "polynomial_numpy", _S0, "Without Pytorch: Numpy Network", "same math in jax.numpy, hand gradients, jit; float64 needs x64"),
    Entry("E02", "polynomial_tensor", _S0, "Adding Pytorch: Tensors", "device placement (jax.devices, device_put)"),
    Entry("E03", "polynomial_autograd", _S0, "Tensors and Autograd", "jax.value_and_grad over a params pytree; nothing to zero"),
    Entry("E04", "legendre_custom_function", _S0, "Defining new Autograd functions", "jax.custom_vjp (fwd saves residuals, bwd)"),
    Entry("E05", "polynomial_nn", _S0, "Pytorch's nn module", "flax module, tree.map update, torch-style parameter names"),
    Entry("E06", "polynomial_optim", _S0, "PyTorch's Optim Package", "optax with PyTorch's RMSprop semantics"),
    Entry("E07", "polynomial_module", _S0, "Custom nn Modules", "a flax (or pytree) module + optax.sgd"),
    Entry("E08", "dynamic_net", _S0, "Control Flow and Weight Sharing", "Python control flow under grad; lax.switch/masking in lax.scan; replaying torch's draws"),
    Entry("E09", "state_dict_io", _S0, "PyTorch Pth Files", "read a .pth into JAX params safely and write one torch loads"),
    Entry("E10", "tensor_basics", _S1, "Pytorch Tensor Library", "jnp equivalents; int64 vs int32 default; the broadcasting error"),
    Entry("E11", "computation_graph", _S1, "Computation Graphs and Autograd", "jax.grad over the leaves; jax.make_jaxpr shows the graph"),
    Entry("E12", "linear_layers", _S1, "Pytorch Modules", "flax Linear with weights converted from torch"),
    Entry("E13", "mycoolnet", _S1, "Using Module to Build a Network; Minimizing a Loss", "flax MLP + optax.sgd momentum"),
    Entry("E14", "momentum_forms", _S1, "Momentum", "both momentum forms as optax transforms, shown equal to torch's"),
    Entry("E15", "adam_lookahead", _S1, "Modern Optimizers", "optax.adam with torch semantics; lookahead against a torch reference"),
    Entry("E16", "tensor_ops", _S2, "Lesson 4 intro", "in-place -> .at[], shared memory -> copies, global seed -> keys"),
    Entry("E17", "fashion_mnist_classifier", _S2, "Part 2-4", "flax MLP, optax.adam, a jitted epoch"),
    Entry("E18", "grad_modes", _S2, "Autograd (Part 3)", "stop_gradient, choosing what to differentiate, jaxpr"),
    Entry("E19", "blitz_training_step", _S3, "PyTorch Blitz", "a ResNet-18 in flax with torch weights converted (BatchNorm included)"),
    Entry("E20", "finetune_freeze", _S3, "freezing params", "optax masking / partitioned optimizers; frozen leaves unchanged"),
    Entry("E21", "cifar_cnn", _S3, "torch.nn pkg", "NCHW/OIHW vs NHWC/HWIO, the flatten order before fc1"),
    Entry("E22", "manual_sgd_update", _S3, "updating the weights", "tree.map update"),
    Entry("E23", "grad_clipping", _S3, "gradient clipping", "optax.clip, clip_by_global_norm (torch adds 1e-6 to the norm)"),
    Entry("E24", "tensor_hooks", _S3, "hooks", "a custom_vjp identity that edits its cotangent; gradients of intermediates via jax.vjp"),
    Entry("E25", "loss_functions", _S3, "loss functions", "optax.losses equivalents"),
    Entry("E26", "linear_regression_numpy", _S4, "from scratch", "hand gradients checked against jax.grad"),
    Entry("E27", "pytorch_linear_regression", _S4, "PyTorchLinearRegression", "flax module; gradients as returned values"),
    Entry("E28", "dummy_dataloader_training", _S4, "Create a Dummy Dataloader; training loop", "explicit-key shuffling, lax.scan over batches"),
    Entry("E29", "grad_accumulation", _S4, ".grad accumulates", "gradients are values: accumulation is an explicit sum"),
)


def entry(name: str) -> Entry:
    """The catalog entry for an id (any case) or a name. Raises UsageError for anything else."""
    key = name.strip().lower()
    for e in CATALOG:
        if key in (e.id.lower(), e.name, f"{e.id.lower()}_{e.name}"):
            return e
    raise UsageError(f"unknown example {name!r}: expected an id E01–E29 or a name such as 'polynomial_autograd' (see `jaxport list`)")


def identity(module: str) -> dict[str, str]:
    """``id``, ``name`` and ``reference`` of the example whose port is ``module`` (a port passes its own
    ``__name__``): the catalog says who an example is, once; ``EXAMPLE = TrainingExample(**identity(__name__), ...)``."""
    for e in CATALOG:
        if e.module == module:
            return {"id": e.id, "name": e.name, "reference": e.reference}
    raise LookupError(f"{module} is not a catalog example's port (expected jaxport.examples.eNN_name.port)")


def is_implemented(e: Entry) -> bool:
    return importlib.util.find_spec(e.module) is not None


def is_user_port(name: str) -> bool:
    """Whether ``name`` names a user's own port file (``my_port.py``, ``path/to/port``) rather than a catalog id."""
    return name.endswith(".py") or "/" in name or os.sep in name


def _import_file(path: Path, what: str) -> ModuleType:
    """Import a ``.py`` file as a module of its own (named after its path, so two files never clash)."""
    if not path.is_file():
        raise UsageError(f"{what} {path}: no such file (expected a .py file)")
    if path.suffix != ".py":
        raise UsageError(f"{what} {path}: expected a .py file")
    resolved = path.resolve()
    name = "jaxport_user." + re.sub(r"\W", "_", str(resolved.with_suffix(""))).strip("_")
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, resolved)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # the user's code: one line naming the file and what it raised
        del sys.modules[name]
        where = next((f"line {f.lineno}" for f in reversed(traceback.extract_tb(e.__traceback__))
                      if Path(f.filename).resolve() == resolved), "")
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise UsageError(f"{what} {path}: importing it raised {type(e).__name__}{' at ' + where if where else ''}: "
                         f"{first}") from None
    return module


def load_user(source: str, *, module: bool = False) -> Example:
    """A user's own example: ``source`` a ``.py`` file (``jaxport compare my_port.py``) or, with
    ``module=True``, an importable module (``--module pkg.my_port``) defining ``EXAMPLE``, a
    :class:`~jaxport.spec.TrainingExample` or :class:`~jaxport.spec.ValuesExample` naming its own ``id``,
    ``name`` and ``reference``. The reference is a dotted module name, or a ``.py`` file (relative to
    the port's folder) defining ``FRAMEWORK`` and ``train`` or ``values``, as the catalog's references do.

    Raises:
        UsageError: one line naming the file or module: missing, raising on import, without
            ``EXAMPLE``, ``EXAMPLE`` not an example, or a reference that cannot be found.
    """
    from jaxport.spec import TrainingExample, ValuesExample

    what = "--module" if module else "port file"
    if module:
        try:
            mod = importlib.import_module(source)
        except Exception as e:
            raise UsageError(f"--module {source}: importing it raised {type(e).__name__}: "
                             f"{(str(e).strip().splitlines() or [''])[0][:200]}") from None
        folder = Path(mod.__file__).parent if getattr(mod, "__file__", None) else Path.cwd()
    else:
        mod = _import_file(Path(source), what)
        folder = Path(source).resolve().parent
    example = getattr(mod, "EXAMPLE", None)
    if example is None:
        raise UsageError(f"{what} {source}: defines no EXAMPLE; expected EXAMPLE = TrainingExample(id=..., name=..., "
                         "reference=..., ...) or ValuesExample(...) (see docs/porting.md)")
    if not isinstance(example, (TrainingExample, ValuesExample)):
        raise UsageError(f"{what} {source}: EXAMPLE is a {type(example).__name__}, expected a jaxport.spec.TrainingExample "
                         "or ValuesExample")
    ref = example.reference
    if ref.endswith(".py"):
        ref_path = (folder / ref).resolve()
        if not ref_path.is_file():
            raise UsageError(f"{what} {source}: its reference {ref} is not a file (looked for {ref_path})")
        return dataclasses.replace(example, reference=str(ref_path))
    if importlib.util.find_spec(ref.split(".")[0]) is None:
        raise UsageError(f"{what} {source}: its reference module {ref!r} cannot be imported (expected a dotted "
                         "module name or a .py file next to the port)")
    return example


def reference_module(reference: str) -> ModuleType:
    """The reference module named by an example's ``reference``: a dotted name, or a ``.py`` file's path."""
    if reference.endswith(".py"):
        return _import_file(Path(reference), "reference file")
    return importlib.import_module(reference)


def load(name: str) -> Example:
    """The JAX port of an example: a catalog id or name, or a user's port file (:func:`load_user`).
    Raises UsageError if it is unknown or not implemented yet."""
    if is_user_port(name):
        return load_user(name)
    e = entry(name)
    if not is_implemented(e):
        raise UsageError(f"{e.id} {e.name} is in the catalog but not implemented yet (see `jaxport list`)")
    return importlib.import_module(e.module).EXAMPLE


def implemented() -> list[Example]:
    return [load(e.id) for e in CATALOG if is_implemented(e)]


def markdown_table() -> str:
    """The catalog as the README's Markdown table (the README test keeps the two equal)."""
    rows = ["| id | example | seed section | JAX idiom | status |", "|---|---|---|---|---|"]
    for e in CATALOG:
        status = f"`jaxport compare {e.id}`" if is_implemented(e) else "planned"
        rows.append(f"| {e.id} | {e.name} | {e.seed[:3]}: {e.section} | {e.idiom} | {status} |")
    return "\n".join(rows)
