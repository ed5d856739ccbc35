"""The closed vocabulary of the caption templates: verb conjugation and word/POS tokens.

Tokens follow HumanML3D's preprocessing: lower-case, alphabetic words only (punctuation is
dropped), NOUN and VERB tokens replaced by their lemma (except the word "left"), tags from the
Universal POS set as spaCy's coarse tagger would give them. Only words listed here can be tagged;
an unknown word raises KeyError, so templates cannot emit untagged words.
"""

from __future__ import annotations

__all__ = ["gerund", "tag_words", "third_person", "vocabulary"]

NOUN, VERB, ADJ, ADV, ADP = "NOUN", "VERB", "ADJ", "ADV", "ADP"
DET, PRON, NUM, CCONJ, SCONJ, AUX = "DET", "PRON", "NUM", "CCONJ", "SCONJ", "AUX"

_VERBS = (
    "applaud", "back", "bend", "bow", "clap", "crouch", "curve", "do", "give", "hold", "hop",
    "hurry", "jab", "jog", "jump", "kick", "leap", "lift", "make", "move", "pivot", "punch", "put",
    "raise", "rotate", "run", "shuffle", "sidestep", "spread", "sprint", "squat", "stand", "step",
    "stretch", "stride", "stroll", "take", "throw", "turn", "veer", "walk", "wave",
)  # fmt: skip
_DOUBLED = {"run", "jog", "step", "squat", "hop", "clap", "put", "jab"}
_IRREGULAR_THIRD = {"do": "does"}
_PAST_PARTICIPLES = {"stretched": "stretch", "held": "hold"}
_NOUNS = {  # lemma -> plural
    "air": None, "arm": "arms", "body": None, "bow": None, "clap": "claps", "curve": None,
    "figure": None, "fist": "fists", "foot": "feet", "front": None, "hand": "hands", "head": None,
    "height": None, "human": None, "individual": None, "jump": "jumps", "kick": "kicks",
    "knee": "knees", "leg": "legs", "line": None, "man": None, "pace": None, "person": None,
    "place": None, "punch": "punches", "shoulder": "shoulders", "side": "sides", "speed": None,
    "spot": None, "squat": "squats", "step": "steps", "time": "times", "turn": None,
    "waist": None, "walk": None, "way": None, "woman": None,
}  # fmt: skip
_OTHER = {
    "a": DET, "an": DET, "the": DET, "his": DET, "her": DET, "their": DET, "both": DET,
    "someone": PRON, "that": PRON, "them": PRON, "is": AUX, "and": CCONJ, "while": SCONJ,
    "after": ADP, "to": ADP, "with": ADP, "in": ADP, "on": ADP, "at": ADP, "over": ADP,
    "above": ADP, "into": ADP, "along": ADP, "up": ADP, "down": ADP, "around": ADP, "out": ADP,
    "forward": ADV, "forwards": ADV, "ahead": ADV, "backward": ADV, "backwards": ADV,
    "back": ADV, "sideways": ADV, "then": ADV, "finally": ADV, "afterwards": ADV, "twice": ADV,
    "slowly": ADV, "quickly": ADV, "briskly": ADV, "leisurely": ADV, "rapidly": ADV,
    "gently": ADV, "slightly": ADV, "deeply": ADV, "sharply": ADV, "together": ADV,
    "there": ADV, "repeatedly": ADV, "far": ADV, "wide": ADV, "vigorously": ADV, "all": ADV,
    "overhead": ADV, "slow": ADJ, "steady": ADJ, "small": ADJ, "big": ADJ, "long": ADJ,
    "short": ADJ, "deep": ADJ, "shallow": ADJ, "slight": ADJ, "sharp": ADJ, "few": ADJ,
    "full": ADJ, "little": ADJ, "two": NUM, "three": NUM, "four": NUM, "five": NUM, "six": NUM,
    "seven": NUM, "eight": NUM,
}  # fmt: skip
# Words whose tag depends on context (see tag_words).
_SIDE_WORDS = {"left", "right"}
_MANNER_WORDS = {"high", "low", "fast", "straight"}  # ADJ before a noun, else ADV
_SIDE_NOUNS = {"hand", "arm", "leg", "foot", "fist", "side", "shoulder", "turn", "kick", "punch"}


def third_person(lemma: str) -> str:
    """Present-tense third-person singular form: walk -> walks, punch -> punches."""
    if lemma in _IRREGULAR_THIRD:
        return _IRREGULAR_THIRD[lemma]
    if lemma.endswith(("s", "sh", "ch", "x", "z")):
        return lemma + "es"
    if lemma.endswith("y") and lemma[-2] not in "aeiou":
        return lemma[:-1] + "ies"
    return lemma + "s"


def gerund(lemma: str) -> str:
    """Present participle: walk -> walking, run -> running, wave -> waving."""
    if lemma in _DOUBLED:
        return lemma + lemma[-1] + "ing"
    if lemma.endswith("e") and not lemma.endswith("ee"):
        return lemma[:-1] + "ing"
    return lemma + "ing"


def _forms() -> tuple[dict[str, str], dict[str, str]]:
    """(noun form -> lemma, verb form -> lemma)."""
    nouns: dict[str, str] = {}
    for lemma, plural in _NOUNS.items():
        nouns[lemma] = lemma
        if plural:
            nouns[plural] = lemma
    verbs = {form: lemma for lemma in _VERBS for form in (third_person(lemma), gerund(lemma))}
    verbs.update(_PAST_PARTICIPLES)
    return nouns, verbs


_NOUN_FORMS, _VERB_FORMS = _forms()


def vocabulary() -> set[str]:
    """Every word form the tagger knows."""
    return set(_NOUN_FORMS) | set(_VERB_FORMS) | set(_OTHER) | _SIDE_WORDS | _MANNER_WORDS


def _tag(words: list[str], i: int, previous: str | None) -> str:
    """POS of words[i] given the previous tag."""
    word = words[i]
    after = words[i + 1] if i + 1 < len(words) else None
    if word in _SIDE_WORDS:
        if after in _SIDE_NOUNS or _NOUN_FORMS.get(after or "") in _SIDE_NOUNS:
            return ADJ
        return NOUN if i > 0 and words[i - 1] in ("the", "his", "her", "their") else ADV
    if word in _MANNER_WORDS:
        return ADJ if after in _NOUN_FORMS else ADV
    if word in _NOUN_FORMS and word in _VERB_FORMS:
        return NOUN if previous in (NUM, DET, ADJ) else VERB
    if word in _NOUN_FORMS:
        return NOUN
    if word in _VERB_FORMS:
        return VERB
    if word in _OTHER:
        return _OTHER[word]
    raise KeyError(f"word {word!r} is not in the caption lexicon")


def tag_words(text: str) -> list[str]:
    """HumanML3D `word/POS` tokens of a caption (punctuation dropped, NOUN/VERB lemmatised)."""
    raw_words = text.lower().replace("-", "").split()
    words = [w for w in ("".join(c for c in raw if c.isalpha()) for raw in raw_words) if w]
    tokens, previous = [], None
    for i, word in enumerate(words):
        pos = _tag(words, i, previous)
        lemma = word
        if pos == NOUN and word != "left":
            lemma = _NOUN_FORMS.get(word, word)
        elif pos == VERB:
            lemma = _VERB_FORMS.get(word, word)
        tokens.append(f"{lemma}/{pos}")
        previous = pos
    return tokens
