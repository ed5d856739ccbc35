"""The HumanML3D caption line: parsing (what the reader keeps) and writing."""

import pytest

from remodiffuse.data.caption_line import Caption, format_caption_line, parse_caption_line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("a man walks#a/DET man/NOUN walk/VERB#0.0#0.0", ("a man walks", 3, 0.0, 0.0)),
        ("a man walks#a/DET#nan#2.5", ("a man walks", 1, 0.0, 2.5)),
        ("a man walks##1#2\n", ("a man walks", 0, 1.0, 2.0)),
        ("   #a/DET#0#0", None),
        ("a man walks#a/DET#0", None),
        ("a man walks#a/DET#x#0", None),
        ("a man walks#a/DET#-1#0", None),
        ("a man walks#a/DET#inf#0", None),
    ],
)
def test_parse_caption_line(line: str, expected: tuple | None) -> None:
    caption = parse_caption_line(line)
    if expected is None:
        assert caption is None
    else:
        assert caption is not None
        assert (caption.text, len(caption.tokens), caption.start, caption.end) == expected


def test_formatted_lines_parse_back() -> None:
    tokens = ["a/DET", "man/NOUN", "walk/VERB"]
    assert (
        format_caption_line("a man walks", tokens) == "a man walks#a/DET man/NOUN walk/VERB#0.0#0.0"
    )
    line = format_caption_line("a man walks", tokens, 1.5, 4.0)
    assert parse_caption_line(line) == Caption("a man walks", tuple(tokens), 1.5, 4.0)
    assert not parse_caption_line(line).is_whole_motion
    assert parse_caption_line(format_caption_line("a man walks", [])).is_whole_motion
