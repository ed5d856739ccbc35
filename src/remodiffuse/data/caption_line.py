"""The HumanML3D caption line `caption#word/POS ...#start#end`, one per line of `texts/ID.txt`.

`start` and `end` are seconds into the motion; 0/0 means the caption describes the whole motion.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Caption", "format_caption_line", "parse_caption_line"]


@dataclass(frozen=True)
class Caption:
    """One caption line: text, `word/POS` tokens and its time range in seconds (0, 0 = whole)."""

    text: str
    tokens: tuple[str, ...]
    start: float
    end: float

    @property
    def is_whole_motion(self) -> bool:
        return self.start == 0.0 and self.end == 0.0


def parse_caption_line(line: str) -> Caption | None:
    """Parse `caption#tokens#start#end`; None when the line has no usable caption.

    NaN times count as 0, so 0/0, NaN/NaN and the mix all mean the whole motion.
    """
    fields = line.strip().split("#")
    if len(fields) != 4 or not fields[0].strip():
        return None
    try:
        start, end = (0.0 if math.isnan(t) else t for t in map(float, fields[2:]))
    except ValueError:
        return None
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end < 0:
        return None
    return Caption(fields[0].strip(), tuple(fields[1].split()), start, end)


def format_caption_line(
    text: str, tokens: Sequence[str], start: float = 0.0, end: float = 0.0
) -> str:
    """`text#word/POS ...#start#end` (default range 0.0/0.0: the whole motion), no newline."""
    return f"{text}#{' '.join(tokens)}#{start}#{end}"
