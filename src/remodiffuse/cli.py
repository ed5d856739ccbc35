"""What every entry point shares: bad input ends the run with one line, not a traceback."""

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from remodiffuse.errors import InputError

Task = TypeVar("Task", bound=Callable[..., Any])

EXIT_INPUT_ERROR = 2


def input_error_of(error: BaseException) -> InputError | None:
    """The InputError behind `error` (itself, or a cause such as Hydra's InstantiationException)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, InputError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def one_line_errors(task: Task) -> Task:
    """Wrap a Hydra task: an InputError prints `error: <message>` to stderr and exits 2.

    With HYDRA_FULL_ERROR=1 the error propagates with its full traceback.
    """

    @functools.wraps(task)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return task(*args, **kwargs)
        except Exception as error:
            cause = input_error_of(error)
            if cause is None or os.environ.get("HYDRA_FULL_ERROR") == "1":
                raise
            print(f"error: {cause}", file=sys.stderr, flush=True)
            raise SystemExit(EXIT_INPUT_ERROR) from None

    return run  # type: ignore[return-value]
