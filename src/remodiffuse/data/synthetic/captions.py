"""Template captions of synthetic motions, in the HumanML3D `texts/ID.txt` line format.

Every primitive has several paraphrases; qualifiers (pace, size, count, height) are mentioned
when the parameter is distinctive, and the side of one-sided primitives is always named (the
body's own left or right). Verbs are written `<lemma>` and conjugated per caption (third person,
or participles after "is"), so one template serves both "walks" and "is walking".
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from remodiffuse.data.caption_line import format_caption_line
from remodiffuse.data.synthetic.lexicon import gerund, tag_words, third_person
from remodiffuse.data.synthetic.primitives import Params, primitive_side
from remodiffuse.data.synthetic.sequence import PrimitiveRecord

__all__ = ["caption_line", "describe_motion"]

_SUBJECTS = (  # (subject, possessive, weight)
    ("a person", "their", 5.0), ("a person", "his", 2.0), ("a man", "his", 3.0),
    ("a woman", "her", 2.0), ("someone", "their", 2.0), ("the person", "their", 2.0),
    ("a figure", "their", 1.0), ("the man", "his", 1.0), ("the woman", "her", 0.6),
    ("a human", "their", 0.5), ("an individual", "their", 0.4),
)  # fmt: skip
_NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
_JOINERS = (" then ", " and then ", ", then ", ", and then ", " and after that ",
            ", after that ", " and afterwards ")  # fmt: skip
_PROGRESSIVE_PROB = 0.2

Phrase = Callable[[Params, str, np.random.Generator], str]


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _times(count: int, rng: np.random.Generator) -> str:
    """'twice' / 'two times', 'three times', ... for count >= 2."""
    if count == 2:
        return _pick(rng, ["twice", "two times"])
    return f"{_NUMBERS[count]} times"


# ---- locomotion --------------------------------------------------------------------------------


def _walk(p: Params, side: str, rng: np.random.Generator) -> str:
    speed, turn = float(p["speed"]), float(p["turn"])
    options = ["<walk> forward", "<walk> ahead", "<move> forward", "<walk> forwards"]
    if turn == 0.0:
        options += ["<walk> straight ahead", "<walk> forward in a straight line"]
    if speed < 0.9:
        options += ["<stroll> forward", "<walk> forward slowly", "<walk> slowly ahead",
                    "<walk> forward at a slow pace", "<walk> leisurely forward",
                    "<take> a slow walk forward"]  # fmt: skip
    elif speed > 1.45:
        options += ["<walk> forward quickly", "<walk> briskly forward", "<hurry> forward",
                    "<walk> forward at a fast pace", "<stride> forward quickly",
                    "<walk> fast"]  # fmt: skip
        options = [o for o in options if "slow" not in o]
    if int(p["steps"]) <= 5 and rng.random() < 0.3:
        options = [f"<take> {_pick(rng, ['a few', _NUMBERS[int(p['steps'])]])} steps forward"]
    phrase = _pick(rng, options)
    if turn != 0.0:
        way = "left" if turn > 0 else "right"
        bend = "sharply" if abs(turn) > 1.1 else _pick(rng, ["gently", "slightly", ""])
        phrase += _pick(rng, [f", <~curve> to the {way}", f" and <veer> {way}",
                              f" along a curve to the {way}", f" and <curve> {bend} to the {way}",
                              f" in a curve to {{pos}} {way}"])  # fmt: skip
    return phrase


def _run(p: Params, side: str, rng: np.random.Generator) -> str:
    speed = float(p["speed"])
    if speed < 2.5:
        return _pick(rng, ["<jog> forward", "<jog> ahead", "<jog> forward at a steady pace",
                           "<run> slowly forward", "<jog> straight ahead",
                           "<run> forward at a slow pace"])  # fmt: skip
    if speed > 3.0:
        return _pick(rng, ["<sprint> forward", "<run> forward quickly", "<run> fast",
                           "<sprint> ahead", "<run> forward at full speed",
                           "<run> rapidly forward"])  # fmt: skip
    return _pick(rng, ["<run> forward", "<run> ahead", "<run> straight ahead",
                       "<run> forwards"])  # fmt: skip


def _backward(p: Params, side: str, rng: np.random.Generator) -> str:
    options = ["<walk> backward", "<walk> backwards", "<step> backward", "<move> backward",
               "<back> up", "<walk> back"]  # fmt: skip
    steps = int(p["steps"])
    if steps <= 5:
        options += [f"<take> {_NUMBERS.get(steps, 'a few')} steps back",
                    "<take> a few steps backward"]  # fmt: skip
    phrase = _pick(rng, options)
    if float(p["speed"]) < 0.6:
        phrase += _pick(rng, [" slowly", " slowly", " at a slow pace", ""])
    return phrase


def _sidestep(p: Params, side: str, rng: np.random.Generator) -> str:
    steps, length = int(p["steps"]), float(p["step_length"])
    size = "big " if length > 0.36 else ("small " if length < 0.27 else "")
    options = [f"<sidestep> to the {side}", f"<step> sideways to the {side}",
               f"<shuffle> sideways to the {side}", f"<move> sideways to {{pos}} {side}",
               f"<take> {_NUMBERS.get(steps, 'a few')} {size}steps to the {side}",
               f"<sidestep> {side}"]  # fmt: skip
    phrase = _pick(rng, options)
    if size and "steps to" not in phrase and rng.random() < 0.7:
        phrase += f" with {size}steps"
    return phrase


def _turn(p: Params, side: str, rng: np.random.Generator) -> str:
    angle = float(p["angle"])
    if angle < 70.0:
        return _pick(rng, [f"<turn> slightly to the {side}", f"<turn> a little to the {side}",
                           f"<make> a slight {side} turn", f"<turn> slightly {side}",
                           f"<rotate> {{pos}} body slightly to the {side}"])  # fmt: skip
    if angle > 115.0:
        return _pick(rng, [f"<turn> around to the {side}", f"<turn> sharply to the {side}",
                           f"<make> a sharp {side} turn", f"<turn> around over {{pos}} {side}"
                           " shoulder", f"<pivot> around to {{pos}} {side}",
                           f"<turn> all the way around to the {side}"])  # fmt: skip
    return _pick(rng, [f"<turn> {side}", f"<turn> to the {side}", f"<turn> to {{pos}} {side}",
                       f"<make> a {side} turn", f"<pivot> to the {side}",
                       f"<turn> {side} on the spot"])  # fmt: skip


# ---- whole-body actions ------------------------------------------------------------------------


def _jump_in_place(p: Params, side: str, rng: np.random.Generator) -> str:
    jumps, clearance = int(p["jumps"]), float(p["clearance"])
    if clearance > 0.22:
        options = ["<jump> up high", "<leap> high into the air", "<jump> high",
                   "<jump> high in place"]  # fmt: skip
    elif clearance < 0.1:
        options = ["<hop> in place", "<do> a small jump", "<hop> up", "<jump> up a little"]
    else:
        options = ["<jump> up", "<jump> in place", "<jump> on the spot", "<jump> into the air",
                   "<jump> up and down"]  # fmt: skip
    phrase = _pick(rng, options)
    if jumps > 1:
        if "a small jump" in phrase:
            phrase = f"<do> {_NUMBERS[jumps]} small jumps"
        else:
            phrase += " " + _times(jumps, rng)
    return phrase


def _jump_forward(p: Params, side: str, rng: np.random.Generator) -> str:
    distance, jumps = float(p["distance"]), int(p["jumps"])
    if distance > 0.8:
        options = ["<jump> far forward", "<leap> forward", "<do> a long jump forward",
                   "<leap> far ahead"]  # fmt: skip
    elif distance < 0.45:
        options = ["<hop> forward", "<do> a short jump forward", "<jump> a little forward"]
    else:
        options = ["<jump> forward", "<jump> ahead", "<leap> forward", "<jump> forwards"]
    phrase = _pick(rng, options)
    if jumps > 1:
        phrase += " " + _times(jumps, rng)
    return phrase


def _squat(p: Params, side: str, rng: np.random.Generator) -> str:
    squats, depth, pace = int(p["squats"]), float(p["depth"]), float(p["pace"])
    if squats > 1:
        size = "deep " if depth > 0.36 else ("shallow " if depth < 0.22 else "")
        phrase = _pick(rng, [f"<do> {_NUMBERS[squats]} {size}squats",
                             f"<squat> down {_times(squats, rng)}"])  # fmt: skip
    elif depth > 0.36:
        phrase = _pick(rng, ["<squat> down deeply", "<squat> low", "<do> a deep squat",
                             "<crouch> down low"])  # fmt: skip
    elif depth < 0.22:
        phrase = _pick(rng, ["<bend> {pos} knees slightly", "<squat> slightly",
                             "<do> a shallow squat", "<crouch> a little"])  # fmt: skip
    else:
        phrase = _pick(rng, ["<squat> down", "<do> a squat", "<crouch> down", "<squat>"])
    if pace > 14.0:
        phrase += _pick(rng, [" slowly", " slowly", ""])
    elif pace < 9.5:
        phrase += _pick(rng, [" quickly", " quickly", ""])
    if int(p["arms_forward"]) and rng.random() < 0.6:
        phrase += _pick(rng, [" with {pos} arms stretched out in front",
                              " with both arms held forward"])  # fmt: skip
    if squats == 1 and rng.random() < 0.4:
        phrase += " and <stand> back up"
    return phrase


def _kick(p: Params, side: str, rng: np.random.Generator) -> str:
    kicks, height = int(p["kicks"]), float(p["height"])
    how = "high" if height > 0.4 else ("low" if height < 0.15 else "")
    if how:
        options = [
            f"<kick> {how} with {{pos}} {side} leg",
            f"<kick> {how} with the {side} foot",
            f"<do> a {how} kick with {{pos}} {side} leg",
            f"<do> a {how} {side} kick",
        ]
    else:
        options = [f"<kick> with {{pos}} {side} leg", f"<kick> {{pos}} {side} foot forward",
                   f"<kick> forward with the {side} foot", f"<kick> with the {side} leg",
                   f"<do> a {side} kick"]  # fmt: skip
    phrase = _pick(rng, options)
    if kicks > 1:
        phrase += " " + _times(kicks, rng)
    return phrase


def _bow(p: Params, side: str, rng: np.random.Generator) -> str:
    angle = float(p["angle"])
    if angle > 45.0:
        return _pick(rng, ["<bow> deeply", "<bend> forward deeply at the waist", "<do> a deep bow",
                           "<bow> down low"])  # fmt: skip
    if angle < 28.0:
        return _pick(rng, ["<bow> slightly", "<give> a slight bow", "<bend> forward a little"])
    return _pick(rng, ["<bow>", "<bow> forward", "<take> a bow", "<bend> forward at the waist",
                       "<bow> down"])  # fmt: skip


# ---- arm gestures ------------------------------------------------------------------------------


def _wave(p: Params, side: str, rng: np.random.Generator) -> str:
    phrase = _pick(rng, [f"<wave> {{pos}} {side} hand", f"<wave> with {{pos}} {side} hand",
                         f"<wave> {{pos}} {side} arm", f"<raise> {{pos}} {side} hand and <wave>",
                         f"<wave> with the {side} hand"])  # fmt: skip
    if p["height"] == "high":
        phrase += _pick(rng, [" above {pos} head", " high over {pos} head", "", ""])
    else:
        phrase += _pick(rng, [" at shoulder height", ""])
    if float(p["period"]) < 8.0:
        phrase += _pick(rng, [" quickly", " vigorously", ""])
    return phrase


def _raise_arms(p: Params, side: str, rng: np.random.Generator) -> str:
    style, times = str(p["style"]), int(p["times"])
    if style == "overhead":
        options = ["<raise> both arms over {pos} head", "<lift> {pos} arms above {pos} head",
                   "<raise> {pos} hands up high", "<put> both hands up in the air",
                   "<stretch> {pos} arms up overhead"]  # fmt: skip
    elif style == "sideways":
        options = [
            "<raise> {pos} arms out to the sides",
            "<hold> both arms out to the side",
            "<spread> {pos} arms wide",
            "<lift> both arms out sideways",
        ]
    else:
        options = [
            "<raise> both arms out in front",
            "<stretch> {pos} arms out forward",
            "<hold> {pos} arms straight out in front",
            "<lift> both arms forward",
        ]
    phrase = _pick(rng, options)
    if times > 1:
        phrase += " " + _times(times, rng)
    elif float(p["hold"]) > 16.0 and rng.random() < 0.5:
        phrase += " and <hold> them there"
    return phrase


def _punch(p: Params, side: str, rng: np.random.Generator) -> str:
    punches = int(p["punches"])
    if punches > 1 and rng.random() < 0.5:
        phrase = f"<throw> {_NUMBERS[punches]} {side} punches"
    else:
        phrase = _pick(rng, [f"<punch> with {{pos}} {side} fist", f"<punch> forward with the "
                             f"{side} arm", f"<throw> a punch with {{pos}} {side} hand",
                             f"<jab> with {{pos}} {side} hand"])  # fmt: skip
        if punches > 1:
            phrase += " " + _times(punches, rng)
    if float(p["extend"]) < 3.0:
        phrase += _pick(rng, [" quickly", ""])
    return phrase


def _clap(p: Params, side: str, rng: np.random.Generator) -> str:
    claps = int(p["claps"])
    options = ["<clap> {pos} hands", "<clap> {pos} hands together", "<clap>"]
    phrase = _pick(rng, options)
    if claps >= 5 and rng.random() < 0.3:
        return _pick(rng, ["<applaud>", "<clap> {pos} hands repeatedly"])
    phrase += " " + _times(claps, rng)
    if float(p["period"]) < 6.0:
        phrase += _pick(rng, [" quickly", ""])
    return phrase


_PHRASES: dict[str, Phrase] = {
    "walk": _walk, "run": _run, "walk_backward": _backward, "sidestep_left": _sidestep,
    "sidestep_right": _sidestep, "turn_left": _turn, "turn_right": _turn,
    "jump_in_place": _jump_in_place, "jump_forward": _jump_forward, "squat": _squat,
    "kick_left": _kick, "kick_right": _kick, "bow": _bow, "wave_left": _wave,
    "wave_right": _wave, "raise_arms": _raise_arms, "punch_left": _punch,
    "punch_right": _punch, "clap": _clap,
}  # fmt: skip


def _phrase(record: PrimitiveRecord, rng: np.random.Generator) -> str:
    """Verb phrase (with <verb> markers) of one primitive, and of a gesture laid over it."""
    side = primitive_side(record.label) or ""
    phrase = _PHRASES[record.label](record.params, side, rng)
    if record.overlay is not None:
        overlay = record.overlay
        gesture = _PHRASES[overlay.label](overlay.params, primitive_side(overlay.label) or "", rng)
        phrase += " while " + gesture.replace("<", "<~")  # always a participle
    return phrase


def _conjugate(text: str, progressive: bool) -> str:
    """Replace <verb> markers: third person (or participle after 'is'); <~verb> is a participle."""

    def form(match: re.Match[str]) -> str:
        lemma = match.group(2)
        return gerund(lemma) if progressive or match.group(1) else third_person(lemma)

    return re.sub(r"<(~?)([a-z]+)>", form, text)


def _sentence(records: tuple[PrimitiveRecord, ...], rng: np.random.Generator) -> str:
    weights = np.array([w for _, _, w in _SUBJECTS])
    subject, possessive, _ = _SUBJECTS[int(rng.choice(len(_SUBJECTS), p=weights / weights.sum()))]
    progressive = rng.random() < _PROGRESSIVE_PROB
    phrases = [_phrase(r, rng) for r in records]
    text = phrases[0]
    for i, phrase in enumerate(phrases[1:], start=1):
        last = i == len(phrases) - 1 and len(phrases) > 2
        joiner = _pick(rng, [*_JOINERS, " and finally "] if last else list(_JOINERS))
        text += joiner + phrase
    text = _conjugate(text, progressive).replace("{pos}", possessive)
    text = f"{subject} {'is ' if progressive else ''}{text}"
    text = re.sub(r"\s+", " ", text).strip()
    return text + ("." if rng.random() < 0.6 else "")


def describe_motion(
    records: tuple[PrimitiveRecord, ...], rng: np.random.Generator, count: int | None = None
) -> list[str]:
    """`count` (default 3 to 5) distinct captions of a motion made of `records`."""
    if count is None:
        count = int(rng.choice([3, 4, 5], p=[0.55, 0.35, 0.1]))
    captions: list[str] = []
    for _ in range(50 * count):
        text = _sentence(records, rng)
        if text not in captions:
            captions.append(text)
        if len(captions) == count:
            break
    return captions


def caption_line(text: str) -> str:
    """`caption#word/POS ...#0.0#0.0` (whole-motion caption) for a texts/ID.txt file."""
    return format_caption_line(text, tag_words(text))
