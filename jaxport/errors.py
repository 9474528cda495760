"""The two kinds of failure a user sees: bad input (exit 2) and a diverged run (exit 1).

Both carry one line that says what happened, where, and what was expected; the CLI prints that
line and exits with the code, never a traceback.
"""


class JaxportError(Exception):
    """Base class: a failure with a one-line message and an exit code."""

    exit_code = 1


class UsageError(JaxportError):
    """Bad input: an unknown example, a bad flag value, an unreadable or malformed file."""

    exit_code = 2


class DivergenceError(JaxportError):
    """A loss became NaN or infinite during training."""

    exit_code = 1

    def __init__(self, example: str, framework: str, step: int, value: float):
        self.example, self.framework, self.step, self.value = example, framework, step, value
        super().__init__(
            f"{example}: the {framework} run diverged: loss is {value} at step {step} "
            "(lower --lr, or check the initial values)"
        )
