"""Checked conversions of command-line options: a bad value is an InputError naming the option."""

from typing import Any

from remodiffuse.errors import InputError

MAX_SEED = 2**63 - 1


def whole_number(option: str, value: Any, minimum: int = 0, maximum: int | None = None) -> int:
    """`value` (an int, a whole float or a digit string) as an int in [minimum, maximum];
    InputError naming `option` otherwise."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        number = int(value.strip())
    allowed = f"a whole number >= {minimum}" + ("" if maximum is None else f" and <= {maximum}")
    if number is None:
        raise InputError(f"{option}={value!r} is not {allowed}")
    if number < minimum or (maximum is not None and number > maximum):
        raise InputError(f"{option}={value!r} is out of range: need {allowed}")
    return number
