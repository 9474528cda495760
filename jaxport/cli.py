"""``jaxport``: list the catalog, run an example, compare it against its reference, benchmark it.

Bad input (an unknown example, a bad flag value, an unreadable file) is one line on stderr and exit
code 2; a diverged run is one line and exit code 1; a failed comparison exits 1.
"""

import argparse
import dataclasses
import json
import math
import os
import sys
import types
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path

from jaxport._config import cpu_threads_from_env, enable_compilation_cache, enable_x64, limit_cpu_threads
from jaxport.errors import JaxportError, UsageError

if typing.TYPE_CHECKING:
    from jaxport.harness import Comparison


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, no usage dump
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _positive_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}")
    return v


MAX_STEPS = 10**8  # a run keeps every step's loss: 0.8 GB of float64 at this many


def _steps(s: str) -> int:
    v = _positive_int(s)
    if v > MAX_STEPS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_STEPS:,} steps (each step's loss is kept), got {s}")
    return v


MAX_REPEATS = 1000


def _repeats(s: str) -> int:
    v = _positive_int(s)
    if v > MAX_REPEATS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_REPEATS} repeats, got {s}")
    return v


MAX_PROCESSES = 64


def _processes(s: str) -> int:
    v = _positive_int(s)
    if v > MAX_PROCESSES:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_PROCESSES} processes, got {s}")
    return v


def _port(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        v = 0
    if not 1024 <= v < 65536:
        raise argparse.ArgumentTypeError(f"expected a TCP port from 1024 to 65535, got {s!r}")
    return v


def _path(s: str) -> str:
    """A file or folder path flag: anything but an empty string (which would silently mean 'none')."""
    if not s.strip():
        raise argparse.ArgumentTypeError(f"expected a path, got {s!r}")
    return s


def _seed(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {s!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {s!r}")
    return v


def _lr(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {s!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {s!r}")
    return v


_SEEDS_EXPECTED = "expected a half-open range A:B (A < B), a comma list such as 3,5,8, or one seed"


def _seeds(s: str) -> tuple[int, ...]:
    """``--seeds``: ``A:B`` (A, A+1, …, B-1), ``3,5,8``, or one non-negative integer."""
    try:
        if ":" in s:
            a, b = (int(x) for x in s.split(":"))
            seeds = tuple(range(a, b))
            if a >= b:
                raise ValueError
        else:
            seeds = tuple(int(x) for x in s.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_SEEDS_EXPECTED}, got {s!r}") from None
    if any(v < 0 for v in seeds):
        raise argparse.ArgumentTypeError(f"{_SEEDS_EXPECTED} (seeds are non-negative), got {s!r}")
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"{_SEEDS_EXPECTED}, each seed once, got {s!r}")
    return seeds


def _key_value(s: str) -> tuple[str, str]:
    """``--set KEY=VALUE``: split at the first ``=`` (the value is parsed per example, by the field's type)."""
    key, eq, value = s.partition("=")
    if not eq or not key.strip().isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (a field of the example's config, e.g. momentum=0.0), got {s!r}")
    return key.strip(), value.strip()


def _add_settings(p: argparse.ArgumentParser, *, dtype_choices: Sequence[str], dtype_help: str, seeds: bool = False) -> None:
    init = p.add_mutually_exclusive_group()
    init.add_argument("--seed", type=_seed, help="draw initial values from numpy.random.default_rng(SEED) (default 0)")
    init.add_argument("--init", type=_path, metavar="PATH", help="initial values from .json (name -> number or nested list), .npz, "
                      ".safetensors or a torch .pth state_dict (read with weights_only=True)")
    if seeds:
        init.add_argument("--seeds", type=_seeds, metavar="A:B|S,S,…", help="a seed sweep: the comparison of --seed S for "
                          "each seed (A:B is half-open), summarised per dtype and regime")
    p.add_argument("--set", dest="sets", action="append", type=_key_value, metavar="KEY=VALUE", default=[],
                   help="override a field of the example's config (repeatable), e.g. momentum=0.0 or betas=0.9,0.99")
    p.add_argument("--steps", type=_steps, help="override the seed's number of steps")
    p.add_argument("--lr", type=_lr, help="override the seed's learning rate")
    p.add_argument("--dtype", choices=dtype_choices, help=dtype_help)
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="where both frameworks run (default cpu)")
    p.add_argument("--orders", type=_path, metavar="PATH", help="E08: the per-step orders as a JSON list of 4, 5 or 6 (default: drawn from --seed)")
    p.add_argument("--data", type=_path, metavar="PATH", help="an .npz of named arrays replacing the example's own data for both "
                   "frameworks (e.g. x and y for E01-E08; names, shapes and dtypes as the example's)")
    p.add_argument("--data-dir", type=_path, metavar="DIR", help="E17/E21: the real dataset's files (Fashion-MNIST IDX, CIFAR-10 binary); "
                   "default: an offline dataset shipped in a package, named in the output")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jaxport", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="the catalog E01–E29 and what is implemented")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("run", help="train one example and print the seed's lines")
    p.add_argument("example", nargs="?", help="an id (E03, e03), a name (polynomial_autograd), or your own port file (my_port.py)")
    p.add_argument("--module", metavar="PKG.MOD", help="your own port as an importable module defining EXAMPLE (instead of a file)")
    p.add_argument("--framework", choices=("jax", "torch", "numpy", "reference"), default="jax",
                   help="the JAX port (default), or the reference: torch (NumPy for E01); 'reference' names either")
    p.add_argument("--save", type=_path, metavar="PATH", help="write the trained parameters: .pth (a torch state_dict), "
                   ".safetensors, .npz or .json, by extension (atomically)")
    p.add_argument("--save-optimizer", action="store_true", help="with --save PATH.pth: write torch's usual training "
                   "checkpoint {'model': state_dict, 'optimizer': its state_dict} (--init reads it back to resume)")
    p.add_argument("--processes", type=_processes, metavar="N", help="with --data-parallel: N local processes joined "
                   "through a coordinator on 127.0.0.1, the mesh spanning all their devices (jaxport.distributed)")
    p.add_argument("--port", type=_port, help="with --processes: the coordinator's port (default: a free one)")
    p.add_argument("--data-parallel", action="store_true", help="JAX: shard each batch over every device of --device "
                   "(jax.sharding; E17, E21, E28)")
    _add_settings(p, dtype_choices=("float32", "float64"), dtype_help="default: the seed's")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compare", help="run JAX and the reference, check every parity regime")
    p.add_argument("example", nargs="*", help="ids or names, or your own port files (my_port.py); or --all")
    p.add_argument("--module", metavar="PKG.MOD", help="your own port as an importable module defining EXAMPLE")
    p.add_argument("--all", action="store_true", help="every implemented example")
    _add_settings(p, dtype_choices=("float32", "float64", "both"), dtype_help="default: both with --all, else the seed's",
                  seeds=True)
    p.add_argument("--plot", type=_path, metavar="PNG", help="write the two loss curves and |Δloss| (log axis) to this PNG")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("bench", help="steady-state training-loop time, JAX vs the reference")
    p.add_argument("example", nargs="*", help="ids or names; or --all")
    p.add_argument("--all", action="store_true")
    p.add_argument("--repeats", type=_repeats, default=5, help="timed repeats after warm-up (median)")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    p.add_argument("--set", dest="sets", action="append", type=_key_value, metavar="KEY=VALUE", default=[],
                   help="override a field of each example's config (repeatable), e.g. batch_size=64 or dtype=float64")
    p.add_argument("--startup", action="store_true",
                   help="whole-process time instead: jaxport run E03/E08 against the seeds' scripts, and jaxport list")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("docs", help="regenerate the study pages docs/*.md from the source (and the stored parity figures)")
    p.add_argument("example", nargs="*", help="with --refresh: the examples to rerun (default: every implemented one)")
    p.add_argument("--refresh", action="store_true", help="rerun the comparisons (float32 and float64) and store their "
                   "figures and plots in docs/parity/ first")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 listing the pages that differ from what "
                   "would be generated now")
    p.add_argument("--dir", type=_path, metavar="DIR", help="the docs directory (default: the repository's docs/)")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="with --refresh: where the comparisons run")
    p.set_defaults(func=cmd_docs)
    return parser


def _examples(args):
    from jaxport import catalog

    module = getattr(args, "module", None)
    if args.all and (args.example or module):
        raise UsageError("give an example or --all, not both")
    if args.all:
        return catalog.implemented()
    if not args.example and not module:
        raise UsageError("name an example (e.g. E03), your own port file (my_port.py) or --module, or pass --all")
    names = [args.example] if isinstance(args.example, str) else list(args.example or ())
    return [catalog.load(n) for n in names] + ([catalog.load_user(module, module=True)] if module else [])


def _init(example, args):
    """Initial values; a ``.pth`` training checkpoint's optimizer state goes to ``args.resume`` (``run`` only)."""
    from jaxport import params

    args.resume = None
    if args.init:
        _check_path("--init", args.init)
        init, args.resume = params.load_training(args.init, example.param_shapes)
        if args.resume is not None and args.command != "run":
            raise UsageError(f"--init {args.init}: holds an optimizer state too; {args.command} starts both frameworks "
                             "from fresh optimizer state (resume with jaxport run, or give the model's state_dict alone)")
        return init
    return example.init(args.seed)


def _resumable(example, args, flag: str) -> None:
    """A resumed or checkpointed optimizer needs a torch.optim one on both sides, and one device."""
    if example.kind != "training" or example.optimizer is None:
        raise UsageError(f"{flag}: {example.label} has no torch.optim optimizer to carry (its update is written out "
                         "or it trains nothing)")
    if args.data_parallel:
        raise UsageError(f"{flag}: a resumed or checkpointed optimizer runs on one device; give it without --data-parallel")


def _torch_optimizer_state(example, cfg, final, p0, data, args) -> dict:
    """The JAX run's final optimizer state as torch's ``state_dict()``: the reference's own optimizer,
    built by one reference step (its settings: param_groups), takes the JAX buffers and counts."""
    import dataclasses as dc

    import jax.numpy as jnp

    from jaxport import optim, optim_state, reference

    names = list(example.param_shapes)
    tx = example.optimizer(cfg)
    template = tx.init({k: jnp.asarray(v) for k, v in example.params_in(final).items()})
    flat = optim.state_to_flat(template)
    state = optim.state_from_flat(template, {k: jnp.asarray(final[k]) for k in flat})
    with reference.resuming() as kept:
        _reference(example, "reference").train(p0, data, dc.replace(cfg, steps=1), device=args.device)
    if kept.optimizer is None:
        raise UsageError(f"--save-optimizer: {example.label}'s reference builds no torch optimizer")
    return optim_state.to_torch(state, names, kept.optimizer)


# (flag, argparse attribute, config field, why an example without the field has no use for the flag)
_FIELD_FLAGS = (("--steps", "steps", "steps", "it runs no steps"), ("--lr", "lr", "lr", "it makes no update"),
                ("--orders", "orders", "orders_file", "only E08 has per-step orders"),
                ("--data-dir", "data_dir", "data_dir", "it reads no dataset files (E17 and E21 do)"))
# config fields set by a flag of their own, never by --set
_OWN_FLAGS = {**{key: flag for flag, _, key, _ in _FIELD_FLAGS}, "dtype": "--dtype", "seed": "--seed"}


def _ranges(tp) -> tuple[typing.Any, list]:
    """``Annotated[int, Range(1)]`` → (int, [Range(1)]); any other type → (it, [])."""
    from jaxport.spec import Range

    if typing.get_origin(tp) is typing.Annotated:
        base, *extra = typing.get_args(tp)
        return base, [r for r in extra if isinstance(r, Range)]
    return tp, []


def _describe(tp) -> str:
    """What a ``--set`` value of type ``tp`` must look like (for the error line)."""
    tp, ranges = _ranges(tp)
    if ranges:
        return f"{_describe(tp)} {' and '.join(map(str, ranges))}"
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a finite number"
    if tp is str:
        return "a string"
    origin, targs = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType) and type(None) in targs:
        inner = [a for a in targs if a is not type(None)]
        return f"{_describe(inner[0])}, or none" if len(inner) == 1 else "a value the command line cannot give"
    if origin is tuple and targs:
        if len(targs) == 2 and targs[1] is Ellipsis:
            return f"comma-separated values, each {_describe(targs[0])}"
        if len(set(targs)) == 1:
            return f"{len(targs)} comma-separated values, each {_describe(targs[0])}"
        return f"{len(targs)} comma-separated values: " + ", ".join(_describe(a) for a in targs)
    return "a value the command line cannot give"


def _parse_as(tp, text: str):
    """``text`` as a value of type ``tp`` (int, float, bool, str, an optional of those, a tuple of them,
    any of them ``Annotated`` with a :class:`jaxport.spec.Range`). Raises ValueError when it does not
    parse or is out of range."""
    tp, ranges = _ranges(tp)
    if ranges:
        value = _parse_as(tp, text)
        if not all(r.holds(value) for r in ranges):
            raise ValueError(text)
        return value
    if tp is bool:
        if text.lower() not in ("true", "false"):
            raise ValueError(text)
        return text.lower() == "true"
    if tp is int:
        return int(text)
    if tp is float:
        v = float(text)
        if not math.isfinite(v):
            raise ValueError(text)
        return v
    if tp is str:
        return text
    origin, targs = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType) and type(None) in targs:
        inner = [a for a in targs if a is not type(None)]
        if len(inner) != 1:
            raise ValueError(text)
        return None if text.lower() == "none" else _parse_as(inner[0], text)
    if origin is tuple and targs:
        parts = [x.strip() for x in text.split(",")]
        if len(targs) == 2 and targs[1] is Ellipsis:
            return tuple(_parse_as(targs[0], x) for x in parts)
        if len(parts) != len(targs):
            raise ValueError(text)
        return tuple(_parse_as(t, x) for t, x in zip(targs, parts))
    raise ValueError(text)


def _field_types(config) -> dict[str, typing.Any]:
    """Each config field's annotated type; the default value's type where an annotation cannot be read."""
    try:
        hints = typing.get_type_hints(type(config), include_extras=True)
    except Exception:  # an annotation that does not resolve: fall back to the defaults' types
        hints = {}
    out = {}
    for f in dataclasses.fields(config):
        tp = hints.get(f.name, f.type)
        if isinstance(tp, str) or tp is typing.Any:
            default = getattr(config, f.name)
            tp = tuple[(type(default[0]), ...)] if isinstance(default, tuple) and default else type(default)
        out[f.name] = tp
    return out


def _shown(value) -> str:
    """A config value as ``--set`` would take it (``0.9,0.999``, ``true``)."""
    if isinstance(value, tuple):
        return ",".join(map(_shown, value))
    return str(value).lower() if isinstance(value, bool) or value is None else str(value)


def _set_overrides(example, args, *, own_flags: bool = True) -> dict:
    """``--set KEY=VALUE`` as config overrides, each parsed by the field's type; a bad one is a UsageError.
    ``own_flags``: the command has flags of its own for some fields (``--steps``), which --set may not set."""
    types_ = _field_types(example.config)
    out = {}
    for key, text in getattr(args, "sets", None) or ():
        given = f"--set {key}={text}"
        if own_flags and key in _OWN_FLAGS:
            raise UsageError(f"{given}: {example.label}'s '{key}' has its own flag: use {_OWN_FLAGS[key]} {text}")
        if key not in types_:
            settable = ", ".join(k for k in types_ if not (own_flags and k in _OWN_FLAGS)) or "none"
            raise UsageError(f"{given}: {example.label}'s config has no field '{key}' (its fields: {settable})")
        if key in out:
            raise UsageError(f"{given}: '{key}' is set twice; give each field once")
        try:
            out[key] = _parse_as(types_[key], text)
        except ValueError:
            raise UsageError(f"{given}: {example.label}'s '{key}' expects {_describe(types_[key])} "
                             f"(default {_shown(getattr(example.config, key))}), got {text!r}") from None
    return out


def _check_path(flag: str, value: str | None) -> None:
    """A path flag the file system refuses to look at (a name too long, a folder without permission)
    is one line naming the flag; a missing file is left to its reader, which says what it expected."""
    if value is None:
        return
    try:
        os.stat(value)
    except FileNotFoundError:
        return
    except OSError as e:
        raise UsageError(f"{flag} {value}: {e.strerror or e}") from None


def _with_data(examples, args) -> list:
    """``--data PATH``: the one example named, its data replaced by the file's arrays (:func:`jaxport.data.with_file`)."""
    if not getattr(args, "data", None):
        return list(examples)
    from jaxport import data

    _check_path("--data", args.data)
    if len(examples) != 1:
        raise UsageError(f"--data gives one example's arrays; name one example, not {len(examples)}")
    if examples[0].kind != "training":
        raise UsageError(f"--data: {examples[0].label} trains nothing; --data replaces a training example's data")
    return [data.with_file(examples[0], args.data)]


def _check_flags_apply(examples, args) -> None:
    """A flag for a config field is refused when none of the examples given has the field (``run E10
    --steps 5``: E10 trains nothing); with several examples it applies to those that have it."""
    for flag, attr, key, why in _FIELD_FLAGS:
        if getattr(args, attr) is None:
            continue
        if not any(key in {f.name for f in dataclasses.fields(e.config)} for e in examples):
            if len(examples) == 1:
                raise UsageError(f"{flag}: {examples[0].label} has no {key}: {why}")
            raise UsageError(f"{flag}: none of {', '.join(e.id for e in examples)} has a '{key}' to set")


def _config(example, args, **fixed) -> dict:
    """Overrides of the example's config from the flags (only the fields its config has), ``--set`` included.
    Whether a flag applies to any example at all is checked once, by :func:`_check_flags_apply`."""
    fields = {f.name for f in dataclasses.fields(example.config)}
    for flag, value in (("--init", args.init), ("--orders", args.orders), ("--data-dir", args.data_dir)):
        _check_path(flag, value)
    out = _set_overrides(example, args)
    flagged = {key: getattr(args, attr) for _, attr, key, _ in _FIELD_FLAGS}
    out.update({k: v for k, v in {**flagged, **fixed}.items() if v is not None and (k in fields or k in fixed)})
    if "seed" in fields:  # the example draws more than initial values from --seed (E08's orders)
        out["seed"] = 0 if args.seed is None else args.seed
    return out


def check_fits(example, cfg) -> None:
    """Every floating config value must survive the run's dtype: one that becomes inf (``--lr 1e39`` in
    float32) or 0 (``--lr 1e-50``) would run a different experiment than asked; a UsageError names it."""
    import numpy as np

    from jaxport.data import np_dtype

    t = np_dtype(cfg.dtype)
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        for v in value if isinstance(value, tuple) else (value,):
            if not isinstance(v, float) or isinstance(v, bool):
                continue
            with np.errstate(over="ignore", under="ignore"):
                held = t(v)
            flag = "--lr" if f.name == "lr" else f"--set {f.name}"
            if not np.isfinite(held):
                raise UsageError(f"{flag} {v:g}: {example.label} runs in {cfg.dtype}, which cannot hold it (largest "
                                 f"{np.finfo(t).max:.4g}); expected a smaller value, or --dtype float64")
            if v != 0 and held == 0:
                raise UsageError(f"{flag} {v:g}: {example.label} runs in {cfg.dtype}, where it rounds to 0 (smallest "
                                 f"{np.finfo(t).smallest_subnormal:.4g}); expected a larger value, or --dtype float64")


def _say(args):
    return (lambda line: print(line, file=sys.stderr)) if args.json else print


def cmd_list(args) -> int:
    from jaxport import catalog

    rows = [dict(id=e.id, name=e.name, seed=e.seed, section=e.section, idiom=e.idiom,
                 implemented=catalog.is_implemented(e)) for e in catalog.CATALOG]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    yes, no = ("✓", "·") if can_encode(sys.stdout, "✓·") else ("+", ".")
    for r in rows:
        print(f"{r['id']}  {yes if r['implemented'] else no}  {r['name']:<28} {r['section']}")
    print(f"\n{sum(r['implemented'] for r in rows)} of {len(rows)} implemented ({yes})")
    return 0


def cmd_run(args) -> int:
    import numpy as np

    from jaxport import checkpoint, params, training

    examples = _examples(argparse.Namespace(all=False, example=args.example, module=args.module))
    if len(examples) != 1:
        raise UsageError("run takes one example: a catalog id, a port file, or --module, not both")
    (example,) = _with_data(examples, args)
    _check_flags_apply([example], args)
    init = _init(example, args)
    cfg = dataclasses.replace(example.config, **_config(example, args, dtype=args.dtype))
    check_fits(example, cfg)
    if args.data:
        example.make_data(cfg)  # the file checked before anything runs
    p0 = params.cast(init, cfg.dtype, source=f"--init {args.init}" if args.init else "initial values")
    report = None if args.json else print
    if example.kind == "values":
        if args.save:
            raise UsageError(f"--save: {example.label} trains nothing; it has no parameters to save")
        if args.data_parallel:
            raise UsageError(f"--data-parallel: {example.label} trains nothing; it has no batches to shard")
        return _run_values(example, args, cfg, p0, report)
    if args.save:
        checkpoint.check_writable(args.save)  # before training, not after
    if args.save_optimizer:
        if not args.save or Path(args.save).suffix.lower() != ".pth":
            raise UsageError("--save-optimizer writes torch's training checkpoint {'model', 'optimizer'}: give --save PATH.pth")
        _resumable(example, args, "--save-optimizer")
    state0 = None
    if args.resume is not None:
        _resumable(example, args, f"--init {args.init} (an optimizer state)")
        if args.framework == "jax":
            import jax.numpy as jnp

            from jaxport import optim, optim_state

            template = example.optimizer(cfg).init({k: jnp.asarray(v) for k, v in p0.items()})
            state0 = {k: np.asarray(v) for k, v in optim.state_to_flat(
                optim_state.from_torch(args.resume, list(example.param_shapes), template)).items()}
    if args.data_parallel and args.framework != "jax":
        raise UsageError("--data-parallel shards the JAX port; the reference runs on one device")
    if args.data_parallel:
        from jaxport import parallel

        parallel.require_batch(example)  # before any output
    if (args.processes or args.port) and not args.data_parallel:
        raise UsageError(f"{'--processes' if args.processes else '--port'}: give it with --data-parallel")
    if args.port and not args.processes:
        raise UsageError("--port: the coordinator's port of a --processes run; give it with --processes")
    if args.processes and args.cluster is None:  # the launcher: everything is checked, start the processes
        from jaxport import distributed

        return distributed.launch(_without(args.argv, ("--processes", "--port")), args.processes, port=args.port)
    leader = args.cluster is None or args.cluster.leader
    if not leader:  # the same compiled chunks as process 0, which alone prints, writes JSON and saves
        report = (lambda line: None) if report is not None else None
    if report is not None and example.header_lines is not None:
        for line in example.header_lines(cfg):  # the same for either framework: what the run reads
            report(line)
    if args.framework == "jax":
        chunk = cfg.print_every  # with --json too: Ctrl-C is honoured between compiled chunks
        if args.data_parallel:
            result = parallel.train(example, p0, cfg, device=args.device, report=report, chunk=chunk)
        else:
            result = training.train(example, p0, cfg, device=args.device, report=report, chunk=chunk, state=state0)
        framework, final, losses, seconds = "jax", result.params, result.losses, result.seconds
    else:
        from jaxport import reference

        ref_mod = _reference(example, args.framework)
        with reference.resuming(args.resume) as kept:  # the reference's optimizer, loaded from --init's checkpoint
            run = ref_mod.train(p0, example.make_data(cfg), cfg, device=args.device, report=report)
        framework, final, losses, seconds = ref_mod.FRAMEWORK, run.params, run.losses, run.seconds
    if not leader:
        return 0
    if args.json:
        print(json.dumps({
            "example": example.id, "framework": framework, "dtype": cfg.dtype, "device": args.device,
            "steps": cfg.steps, "final_loss": float(losses[-1]), "params": params.to_jsonable(example.params_in(final)),
            "history": [[i, float(v)] for i, v in enumerate(losses)],
        }))
    print(f"{example.label}: {cfg.steps} steps in {seconds:.2f} s ({framework}, {cfg.dtype}, {args.device})", file=sys.stderr)
    if args.save:
        existed = Path(args.save).exists()
        model = {k: np.asarray(v) for k, v in example.params_in(final).items()}
        if args.save_optimizer:
            if framework != "jax" and kept.optimizer is None:
                raise UsageError(f"--save-optimizer: {example.label}'s reference built no torch optimizer")
            osd = (kept.optimizer.state_dict() if framework != "jax"
                   else _torch_optimizer_state(example, cfg, final, p0, example.make_data(cfg), args))
            checkpoint.save_training(model, osd, args.save)
        else:
            checkpoint.save(model, args.save)
        print(f"wrote {args.save}" + (" (replaced the file that was there)" if existed else ""), file=sys.stderr)
    return 0


def _without(argv: Sequence[str], flags: tuple[str, ...]) -> list[str]:
    """``argv`` less each of ``flags`` and its value (``--flag V`` or ``--flag=V``)."""
    out, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token in flags:
            skip = True
        elif not any(token.startswith(f + "=") for f in flags):
            out.append(token)
    return out


def _reference(example, framework: str):
    from jaxport import harness

    ref_mod = harness.reference_module(example)
    if framework not in ("reference", ref_mod.FRAMEWORK):
        raise UsageError(f"--framework {framework}: {example.label}'s reference is {ref_mod.FRAMEWORK}")
    return ref_mod


def _run_values(example, args, cfg, p0, report) -> int:
    """A demonstration example: compute its values and print the seed's lines (or JSON)."""
    import jax
    import numpy as np

    from jaxport import params, training

    data = example.make_data(cfg)
    if args.framework == "jax":
        dev = training.jax_device(args.device)
        values = jax.tree.map(np.asarray, example.values(jax.device_put(p0, dev), jax.device_put(data, dev), cfg))
        framework = "jax"
    else:
        ref_mod = _reference(example, args.framework)
        values, framework = ref_mod.values(p0, data, cfg, device=args.device), ref_mod.FRAMEWORK
    if args.json:
        print(json.dumps({"example": example.id, "framework": framework, "dtype": cfg.dtype, "device": args.device,
                          "values": params.to_jsonable(values)}))
    else:
        for line in example.value_lines(values):
            report(line)
    return 0


def _dtypes(example, args) -> tuple[str, ...]:
    """The dtypes ``compare`` checks: ``--dtype`` (``both``: float32 and float64); without it, both with
    ``--all`` and the seed's own for named examples."""
    if args.dtype is None:
        return ("float32", "float64") if args.all else (example.config.dtype,)
    return ("float32", "float64") if args.dtype == "both" else (args.dtype,)


def _comparisons(example, args, dtypes: Sequence[str] | None = None) -> Iterator["Comparison"]:
    """The comparisons ``compare`` runs for one example, one per dtype (default :func:`_dtypes`), from
    the flags' initial values and config (a sweep runs them with each seed as ``--seed``)."""
    from jaxport import harness

    init = _init(example, args)
    overrides = _config(example, args)
    for dtype in _dtypes(example, args) if dtypes is None else dtypes:
        yield harness.compare(example, init, dtype=dtype, device=args.device, **overrides)


def _as_seed(args, seed: int) -> argparse.Namespace:
    """``args`` as ``--seed SEED`` would have given them."""
    return argparse.Namespace(**{**vars(args), "seed": seed, "seeds": None})


def cmd_compare(args) -> int:
    from jaxport import report

    if args.plot:
        report.check_plot_path(Path(args.plot))
    examples = _with_data(_examples(args), args)
    _check_flags_apply(examples, args)
    for example in examples:  # every flag checked against every example before anything runs
        overrides = _config(example, args)
        for dtype in _dtypes(example, args):
            check_fits(example, dataclasses.replace(example.config, **overrides, dtype=dtype))
            if args.data:
                example.make_data(dataclasses.replace(example.config, **overrides, dtype=dtype))
    if args.seeds is not None:
        if args.plot:
            raise UsageError("--plot draws one comparison; give it without --seeds")
        return _sweep(examples, args)
    results = []
    for example in examples:
        for c in _comparisons(example, args):
            results.append(c)
            if not args.json:
                print(report.table(c), flush=True)
    if args.plot:
        for path in report.plot(results, Path(args.plot)):
            print(f"wrote {path}", file=sys.stderr)
    passed = all(c.passed for c in results)
    if args.json:
        docs = [c.as_dict() for c in results]
        print(json.dumps(docs if args.all or len(docs) > 1 else docs[0], indent=1))  # one example, one dtype: an object
    else:
        n_fail = sum(not c.passed for c in results)
        print(f"{len(results) - n_fail} passed, {n_fail} failed")
    return 0 if passed else 1


def _sweep(examples, args) -> int:
    """``compare --seeds``: each example's comparisons for every seed, summarised per dtype and regime.

    A run that diverges counts as a failed comparison; Ctrl-C prints the summary of what finished,
    then exits 130 (through :func:`main`).
    """
    from jaxport import report, training
    from jaxport.errors import DivergenceError

    seeds = list(args.seeds)
    progress = training.Progress.wanted()
    sweeps: list[report.Sweep] = []
    interrupted = False
    try:
        for example in examples:
            sweep = report.Sweep(example, seeds, list(_dtypes(example, args)), args.device)
            sweeps.append(sweep)
            for seed in seeds:
                for dtype in sweep.dtypes:
                    try:
                        (c,) = _comparisons(example, _as_seed(args, seed), (dtype,))
                    except DivergenceError as e:  # a failure of this run, not the end of the sweep
                        sweep.add_error(seed, dtype, str(e))
                        verdict = "FAIL (diverged)"
                    else:
                        sweep.add(seed, c)
                        verdict = "PASS" if c.passed else "FAIL"
                    if progress:
                        print(f"{example.id} seed {seed} {dtype}: {verdict}", file=sys.stderr, flush=True)
            if not args.json:
                print(sweep.table(), flush=True)
    except KeyboardInterrupt:
        interrupted = True
        if not args.json and sweeps and sweeps[-1].total:  # the one in progress: what of it finished
            print(sweeps[-1].table(interrupted=True), flush=True)
    total = sum(s.total for s in sweeps)
    failed = sum(s.failed for s in sweeps)
    if args.json:
        docs = [s.as_dict(interrupted=interrupted and s is sweeps[-1]) for s in sweeps]
        print(json.dumps(docs if args.all or len(docs) > 1 else docs[0], indent=1))
    else:
        print(f"{total - failed} passed, {failed} failed"
              + (" (interrupted: the summary is of what finished)" if interrupted else ""))
    if interrupted:
        raise KeyboardInterrupt
    return 0 if failed == 0 else 1


def cmd_bench(args) -> int:
    from jaxport import bench

    if args.startup:
        if args.example or args.all or args.device != "cpu" or args.sets:
            raise UsageError("--startup times its own fixed set (jaxport list, run E03, run E08) on the CPU; "
                             "give it without examples, --all, --device or --set")
        rows = []
        for row in bench.startup(args.repeats):
            rows.append(row)
            if not args.json:
                print(bench.format_startup(row), flush=True)
        if args.json:
            print(json.dumps(rows, indent=1))
        return 0
    examples = _examples(args)
    # bench has no --steps/--dtype/--lr: every field goes through --set; all checked before anything runs
    configs = [dataclasses.replace(e.config, **_set_overrides(e, args, own_flags=False)) for e in examples]
    for example, cfg in zip(examples, configs):
        check_fits(example, cfg)
    rows = []
    for example, cfg in zip(examples, configs):
        row = bench.bench(example, cfg, device=args.device, repeats=args.repeats)
        rows.append(row)
        if not args.json:
            print(bench.format_row(row), flush=True)
    if args.json:
        print(json.dumps(rows if args.all or len(rows) > 1 else rows[0], indent=1))
    return 0


def cmd_docs(args) -> int:
    """Regenerate the study pages (``--refresh``: rerun the comparisons first; ``--check``: only compare)."""
    from jaxport import catalog, docs

    if args.check and args.refresh:
        raise UsageError("--check writes nothing; give it without --refresh")
    if args.example and not args.refresh:
        raise UsageError("name examples only with --refresh (the pages are always regenerated together)")
    if args.device != "cpu" and not args.refresh:
        raise UsageError("--device only applies with --refresh")
    root = docs.DOCS if args.dir is None else Path(args.dir)
    if args.dir is not None and not root.is_dir():
        raise UsageError(f"--dir {args.dir}: no such directory")
    if args.check:
        bad = docs.stale(root)
        for path in bad:
            print(f"stale: {path} (run `jaxport docs`)", file=sys.stderr)
        print(f"{len(docs.generate(root)) - len(bad)} pages current, {len(bad)} stale")
        return 1 if bad else 0
    if args.refresh:
        user = [n for n in args.example if catalog.is_user_port(n)]
        if user:
            raise UsageError(f"docs --refresh {user[0]}: the study pages are the catalog's; compare your own port with "
                             "jaxport compare")
        examples = [catalog.load(n) for n in args.example] if args.example else catalog.implemented()
        for path in docs.refresh(examples, device=args.device, docs=root):
            print(f"wrote {path}", file=sys.stderr)
    changed = docs.write(root)
    for path in changed:
        print(f"wrote {path}", file=sys.stderr)
    print(f"{len(changed)} pages changed, {len(docs.generate(root)) - len(changed)} unchanged")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jaxport`` command; returns the exit code.

    Every failure is one line on stderr: bad input or an environment that refuses (no permission, a
    full disk, a name too long) exits 2, a failed or diverged run 1, Ctrl-C 130; a closed pipe
    (``jaxport run E03 | head -1``) ends quietly with 141, as a process killed by SIGPIPE does.
    """
    _tolerant_streams()
    parser = build_parser()
    args = None
    try:
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)
        args.cluster = _join_cluster(args)  # a process of a multi-process run joins before JAX's backend starts
        if args.command != "list":  # listing the catalog imports neither JAX nor torch
            enable_x64()  # before any array exists: float32 and float64 runs share one process
            limit_cpu_threads(cpu_threads_from_env())  # see jaxport._config: small kernels, 2 cores
            if not (args.command == "bench" and not args.startup):  # bench's compile time is the compiler's own
                enable_compilation_cache()  # a second run of an example loads its compiled loop
        code = args.func(args)
        sys.stdout.flush()  # a full disk or a closed pipe shows here, not after main has returned
        return code
    except JaxportError as e:
        return _fail(str(e), e.exit_code)
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except OSError as e:  # the environment refused: permission, no space, a name too long, a read-only folder
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        return _fail(f"{where}{e.strerror or e}", 2)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as e:
        if getattr(args, "cluster", None) is not None:  # a collective failed: a peer died, or the network
            first = (str(e).strip().splitlines() or [""])[0]
            return _fail(f"process {args.cluster.process_id}: the run failed ({type(e).__name__}: {first[:200]})", 1)
        if not getattr(args, "sets", None):
            raise
        # --set can give a config a port was not written for (a user's port that assumes momentum > 0):
        # one line, not a traceback
        sets = " ".join(f"--set {k}={v}" for k, v in args.sets)
        first = (str(e).strip().splitlines() or [""])[0]
        return _fail(f"{sets}: the run fails with this config ({type(e).__name__}: {first[:200]}); "
                     "the example's port does not support this override", 2)


def _join_cluster(args):
    """The multi-process run this process belongs to (``jaxport.distributed``'s environment), joined;
    None when it is on its own."""
    from jaxport import distributed

    cluster = distributed.from_env()
    if cluster is None:
        return None
    if args.command != "run" or not args.data_parallel:
        raise UsageError(f"{', '.join(distributed.ENV)} are set: a process of a multi-process run runs "
                         "`jaxport run EXX --data-parallel`; unset them for anything else")
    distributed.join(cluster)
    return cluster


def _fail(message: str, code: int) -> int:
    try:
        print(f"jaxport: error: {message}" if code != 130 else f"jaxport: {message}", file=sys.stderr)
    except (BrokenPipeError, OSError):
        pass
    return code


def _silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so Python's flush at exit cannot fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _tolerant_streams() -> None:
    """Where stdout or stderr cannot encode jaxport's symbols (``PYTHONIOENCODING=ascii``, a C locale),
    write them as ``\\u2713`` escapes instead of failing with UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        if not can_encode(stream, SYMBOLS) and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


SYMBOLS = "✓·×Δ–—→…±≤≥²"  # the non-ASCII characters jaxport prints


def can_encode(stream, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
