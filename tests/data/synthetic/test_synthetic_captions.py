"""Template captions: count, line format, POS tags, left/right truth, variety and rareness."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from synthetic_test_helpers import sample_params

from remodiffuse.data.synthetic import PRIMITIVE_LABELS, sample_motion
from remodiffuse.data.synthetic.captions import caption_line, describe_motion
from remodiffuse.data.synthetic.lexicon import gerund, tag_words, third_person, vocabulary
from remodiffuse.data.synthetic.primitives import OVERLAY_LABELS, primitive_side
from remodiffuse.data.synthetic.sequence import PrimitiveRecord

POS_TAGS = {"NOUN", "VERB", "ADJ", "ADV", "ADP", "DET", "PRON", "NUM", "CCONJ", "SCONJ", "PART",
            "AUX", "PUNCT"}  # fmt: skip
LINE = re.compile(r"^[^#]+#(?:[a-z]+/[A-Z]+)(?: [a-z]+/[A-Z]+)*#0\.0#0\.0$")


@pytest.fixture(scope="module")
def sampled() -> list[tuple[tuple[PrimitiveRecord, ...], list[str]]]:
    """200 seeded motions' primitive records and captions."""
    out = []
    for seed in np.random.SeedSequence(2024).spawn(200):
        rng = np.random.default_rng(seed)
        motion = sample_motion(rng)
        out.append((motion.primitives, describe_motion(motion.primitives, rng)))
    return out


def _expected_sides(records: tuple[PrimitiveRecord, ...]) -> set[str]:
    sides = set()
    for record in records:
        for part in (record, record.overlay):
            if part is not None and primitive_side(part.label):
                sides.add(primitive_side(part.label))
        turn = float(record.params.get("turn", 0.0))
        if turn:
            sides.add("left" if turn > 0 else "right")
    return sides


def test_every_motion_has_three_or_more_distinct_well_formed_captions(sampled):
    for _, captions in sampled:
        assert len(captions) >= 3 and len(set(captions)) == len(captions)
        for text in captions:
            assert LINE.match(caption_line(text)), caption_line(text)
            assert text == text.lower() and "#" not in text


def test_left_and_right_in_captions_match_the_motion(sampled):
    for records, captions in sampled:
        expected = _expected_sides(records)
        for text in captions:
            words = set(re.findall(r"[a-z]+", text))
            assert words & {"left", "right"} == expected, (text, [r.label for r in records])


def test_every_template_word_is_tagged_for_every_primitive():
    """Exhaustive-ish: many parameter draws and caption variants of every primitive (alone, in
    pairs and with a gesture over it) only emit words of the lexicon, with valid POS tags."""
    rng = np.random.default_rng(0)
    for label in PRIMITIVE_LABELS:
        for k in range(120):
            overlay = None
            if k % 3 == 0:
                gesture = OVERLAY_LABELS[k % len(OVERLAY_LABELS)]
                overlay = PrimitiveRecord(gesture, sample_params(gesture, rng), 1, 5)
            records = (PrimitiveRecord(label, sample_params(label, rng), 0, 9, overlay),
                       PrimitiveRecord("walk", sample_params("walk", rng), 9, 20))  # fmt: skip
            for text in describe_motion(records, rng, 3):
                for token in tag_words(text):
                    word, pos = token.split("/")
                    assert pos in POS_TAGS and word.isalpha()


def test_tokens_follow_the_humanml3d_conventions():
    tokens = tag_words("a man is waving his left hand, then takes three steps to the right.")
    assert tokens == [
        "a/DET", "man/NOUN", "is/AUX", "wave/VERB", "his/DET", "left/ADJ", "hand/NOUN",
        "then/ADV", "take/VERB", "three/NUM", "step/NOUN", "to/ADP", "the/DET", "right/NOUN",
    ]  # fmt: skip
    assert tag_words("someone turns left and jumps twice") == [
        "someone/PRON",
        "turn/VERB",
        "left/ADV",
        "and/CCONJ",
        "jump/VERB",
        "twice/ADV",
    ]
    with pytest.raises(KeyError):
        tag_words("a person moonwalks")
    assert (third_person("punch"), third_person("hurry"), gerund("run"), gerund("wave")) == (
        "punches",
        "hurries",
        "running",
        "waving",
    )


def test_vocabulary_and_variety_over_two_hundred_motions(sampled):
    captions = [text for _, texts in sampled for text in texts]
    words = {w for text in captions for w in re.findall(r"[a-z]+", text)}
    assert words <= vocabulary()
    assert len(words) >= 60
    assert len(set(captions)) >= len(sampled)


def test_primitive_frequencies_are_zipf_like(sampled):
    """Frequent primitives are much more common than rare ones, so rareness means something."""
    counts = Counter(r.label for records, _ in sampled for r in records)
    ranked = [counts.get(label, 0) for label in PRIMITIVE_LABELS]  # most to least frequent
    assert ranked[0] >= 4 * max(min(ranked), 1)
    assert sum(ranked[:5]) > 2 * sum(ranked[-5:])
