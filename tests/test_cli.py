"""one_line_errors: bad input ends with one `error:` line and exit 2; other errors propagate."""

import pytest

from remodiffuse.cli import EXIT_INPUT_ERROR, one_line_errors
from remodiffuse.errors import InputError


def _wrapped_in_a_framework_error() -> None:
    try:
        raise InputError("length='abc' is not a whole number")
    except InputError as error:
        raise RuntimeError("Error in call to target") from error  # as hydra.instantiate does


def test_input_error_becomes_one_line(capsys, monkeypatch):
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        one_line_errors(_wrapped_in_a_framework_error)()
    assert exit_info.value.code == EXIT_INPUT_ERROR
    assert capsys.readouterr().err == "error: length='abc' is not a whole number\n"


def test_full_error_and_other_errors_propagate(monkeypatch):
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    with pytest.raises(RuntimeError):
        one_line_errors(_wrapped_in_a_framework_error)()
    monkeypatch.delenv("HYDRA_FULL_ERROR")

    def bug() -> None:
        raise KeyError("a bug, not bad input")

    with pytest.raises(KeyError):
        one_line_errors(bug)()
