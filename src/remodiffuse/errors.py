"""The library's error for bad input and bad files: what users fix, not what developers debug.

Every message names the file (or option), the entry, what was given and what is allowed. Entry
points print it as one `error: <message>` line (see `remodiffuse.cli`).
"""


class InputError(ValueError):
    """Bad input: an option, a file or a file's contents that the library cannot use."""


class MissingFileError(InputError, FileNotFoundError):
    """A file or folder the input names does not exist."""


class NonFiniteLossError(InputError):
    """Training diverged (NaN or infinite loss): the data or the settings must change."""
