"""One error tree for lendvalue.

Every error a user can cause derives from :class:`LendvalueError` and also from the builtin a
caller would naturally catch, so ``except ValueError`` keeps working. Messages say what was
expected, what came, and what to do. The CLI maps each class to an exit code and prints one line.
"""

from __future__ import annotations


class LendvalueError(Exception):
    """Root of every error lendvalue raises on purpose."""

    exit_code = 1


class DataContractError(LendvalueError, ValueError):
    """Input does not fit the data contract as a whole (missing columns, unknown table, bad file).

    Row-level violations never raise: those rows go to quarantine with their rules.
    """

    exit_code = 3


class MappingError(LendvalueError, ValueError):
    """The YAML column/value mapping file is malformed or names unknown tables or columns."""

    exit_code = 3


class ConfigError(LendvalueError, ValueError):
    """Settings or assumption files are invalid."""

    exit_code = 2


class StoreError(LendvalueError, RuntimeError):
    """The warehouse could not be opened or a load failed and was rolled back."""

    exit_code = 4


class NotFittedError(LendvalueError, AttributeError):
    """A model was used before ``fit``."""

    exit_code = 5


class ConvergenceError(LendvalueError, RuntimeError):
    """An optimiser did not converge; the message says what to try."""

    exit_code = 6


class InfeasibleError(LendvalueError, ValueError):
    """A constrained problem (pricing, allocation) has no feasible solution."""

    exit_code = 7
