"""What to generate: prompts from `text=` or a prompts file, checked, and their batches."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from remodiffuse.errors import InputError
from remodiffuse.files import read_option_text
from remodiffuse.options import whole_number

MAX_PROMPT_FILE_BYTES = 64 << 20  # a prompts file larger than this is refused


@dataclass(frozen=True)
class Prompt:
    text: str
    length: int  # frames


def read_prompts(path: str | Path, default_length: int) -> list[Prompt]:
    """Prompts file: one prompt per line, optionally `text#length`; blank lines are ignored."""
    path = Path(path)
    text = read_option_text("prompts", path, MAX_PROMPT_FILE_BYTES)
    prompts = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        caption, _, length = line.partition("#")
        if not caption.strip():
            raise InputError(f"{path}:{number}: empty prompt before '#': {line!r}")
        frames = default_length
        if length.strip():
            frames = whole_number(f"{path}:{number}: length after '#'", length.strip(), 1)
        prompts.append(Prompt(caption.strip(), frames))
    if not prompts:
        raise InputError(f"prompts={path} holds no prompt")
    return prompts


def prompt_list(text: str | None, prompts_file: str | Path | None, length: Any) -> list[Prompt]:
    """The prompts of `text=` (at `length=`) or of a prompts file (default length `length=`)."""
    if (text is None) == (prompts_file is None):
        raise InputError("give exactly one of text=... or prompts=FILE")
    frames = whole_number("length", length, 1)
    if prompts_file is not None:
        return read_prompts(prompts_file, frames)
    if not str(text).strip():
        raise InputError("text= is empty: give a sentence to generate")
    return [Prompt(str(text).strip(), frames)]


def batches(prompts: Sequence[Prompt], num_samples: int, size: int) -> Iterator[list[Prompt]]:
    """Every prompt `num_samples` times in order, in lists of at most `size`."""
    rows = [prompt for prompt in prompts for _ in range(num_samples)]
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
