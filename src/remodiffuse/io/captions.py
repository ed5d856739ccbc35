"""Captions of imported motions: CSV files, `.txt` files beside the takes, HumanML3D text lines.

Caption sources (merged per motion id, duplicates dropped, order kept):

- a CSV with a header row containing `id` and `caption` (id = the motion file's stem);
- the CMU descriptions CSV (`Subject`, `Trial #`, `Motion Description`, ...): id `SS_TT`;
- `ID.txt` beside `ID.bvh` / `ID.amc`: one caption per non-blank line.

HumanML3D text lines are `caption#word/POS ...#0.0#0.0` (`remodiffuse.data.caption_line`). The
tokens come from the synthetic set's lexicon when it knows every word, else from a small heuristic
tagger (closed-class words, suffixes, common motion verbs, NOUN otherwise): HumanML3D used spaCy,
which is not a dependency here.

A captions file larger than MAX_CAPTIONS_BYTES is refused (CSV) or ignored like an unreadable
one (`.txt`) without being read.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from remodiffuse.data.caption_line import format_caption_line
from remodiffuse.data.synthetic.lexicon import tag_words
from remodiffuse.errors import InputError

__all__ = [
    "MAX_CAPTIONS_BYTES",
    "CaptionError",
    "caption_line",
    "clean_caption",
    "heuristic_tokens",
    "read_caption_csv",
    "read_caption_txt",
]


MAX_CAPTIONS_BYTES = 64 << 20  # all of HumanML3D's captions take ~15 MB


class CaptionError(InputError):
    """A captions file that cannot be read or has neither supported header."""


def _read_bounded(path: Path) -> str:
    """UTF-8 text (a BOM dropped) of a file of at most MAX_CAPTIONS_BYTES; OSError,
    UnicodeDecodeError or CaptionError (too large)."""
    with path.open("rb") as handle:
        data = handle.read(MAX_CAPTIONS_BYTES + 1)
    if len(data) > MAX_CAPTIONS_BYTES:
        raise CaptionError(f"captions {path} is larger than the {MAX_CAPTIONS_BYTES} bytes allowed")
    return data.decode("utf-8-sig")


_CLOSED = {
    "DET": "a an the his her their its this that these those each every both some any no",
    "PRON": "he she it they him them himself herself themselves someone somebody who",
    "ADP": "to with in on at over above into onto along up down around out of from by for "
    "off through across under underneath behind between toward towards against",
    "CCONJ": "and or but",
    "SCONJ": "while as if because before after until when then",
    "AUX": "is are was were be being been has have had does do did can will",
    "NUM": "one two three four five six seven eight nine ten",
    "ADV": "forward forwards backward backwards sideways back away again together slowly "
    "quickly very not left right",
}
_CLOSED_TAGS = {word: tag for tag, words in _CLOSED.items() for word in words.split()}
_VERBS = set(
    "walk run jog jump hop skip climb hang swing sit stand kick punch strike throw catch dance "
    "turn bend lift raise lower wave clap crawl roll stretch step lean push pull drop go rise "
    "scoop wash balance dangle descend rock hold duck stop start reach pick carry squat bow "
    "spin shake look move".split()
)  # fmt: skip


def clean_caption(text: str) -> str:
    """One caption as a single line without the `#` field separator."""
    return " ".join(text.replace("#", " ").split())


def heuristic_tokens(text: str) -> list[str]:
    """`word/POS` tokens by closed-class lookup, suffixes and a motion-verb list (else NOUN)."""
    words = re.findall(r"[a-z]+", text.lower())
    tokens = []
    for word in words:
        if word in _CLOSED_TAGS:
            tag = _CLOSED_TAGS[word]
        elif word in _VERBS or word.endswith(("ing", "ed")) or word.rstrip("s") in _VERBS:
            tag = "VERB"
        elif word.endswith("ly"):
            tag = "ADV"
        else:
            tag = "NOUN"
        tokens.append(f"{word}/{tag}")
    return tokens


def caption_line(text: str) -> str:
    """`caption#word/POS ...#0.0#0.0` (whole-motion caption) for a texts/ID.txt file."""
    text = clean_caption(text)
    try:
        tokens = tag_words(text)
    except KeyError:
        tokens = heuristic_tokens(text)
    return format_caption_line(text, tokens)


def _column(header: list[str], *names: str) -> int | None:
    """Index of the first header cell equal (ignoring case and spaces) to one of `names`."""
    keys = [cell.strip().lower() for cell in header]
    for name in names:
        if name in keys:
            return keys.index(name)
    return None


def read_caption_csv(path: str | Path) -> dict[str, list[str]]:
    """{motion id: captions} from an `id,caption` CSV or the CMU descriptions CSV."""
    path = Path(path)
    try:
        rows = list(csv.reader(io.StringIO(_read_bounded(path), newline="")))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CaptionError(f"cannot read captions {path}: {exc}") from None
    if not rows:
        raise CaptionError(f"captions {path} is empty")
    header = rows[0]
    id_col, caption_col = _column(header, "id"), _column(header, "caption")
    subject_col = _column(header, "subject")
    trial_col = _column(header, "trial #", "trial")
    description_col = _column(header, "motion description", "description")
    captions: dict[str, list[str]] = {}
    for row in rows[1:]:
        if id_col is not None and caption_col is not None:
            if len(row) <= max(id_col, caption_col):
                continue
            motion_id, text = row[id_col].strip(), row[caption_col]
        elif None not in (subject_col, trial_col, description_col):
            try:
                subject, trial = int(row[subject_col]), int(row[trial_col])
                text = row[description_col]
            except (IndexError, ValueError):
                continue
            motion_id = f"{subject:02d}_{trial:02d}"
        else:
            raise CaptionError(
                f"captions {path}: expected a header 'id,caption' or the CMU descriptions header "
                f"'Subject,Trial #,Motion Description,...'; got {','.join(header)}"
            )
        text = clean_caption(text)
        if motion_id and text and text not in captions.setdefault(motion_id, []):
            captions[motion_id].append(text)
    return captions


def read_caption_txt(path: Path) -> list[str]:
    """Captions of a `.txt` beside a motion file: one per non-blank line ([] when absent,
    unreadable or too large)."""
    try:
        lines = _read_bounded(path).splitlines()
    except (OSError, UnicodeDecodeError, CaptionError):
        return []
    return [clean_caption(line) for line in lines if line.strip()]
