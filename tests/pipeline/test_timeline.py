"""Timelines: files read and checked, windows planned, and one motion generated across them."""

from itertools import pairwise

import numpy as np
import pytest

from remodiffuse.errors import InputError
from remodiffuse.metrics.jerk import frame_jerk, seam_jerk
from remodiffuse.motion import joints_from_features
from remodiffuse.pipeline import KnownMotion, MotionGenerator
from remodiffuse.pipeline.timeline import Segment, plan_windows, read_timeline


@pytest.fixture(scope="module")
def generator(tiny_trained_run) -> MotionGenerator:
    return MotionGenerator(tiny_trained_run[0])


def test_text_and_yaml_timelines_give_segments_in_frames(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("a person walks#0#3.5\n\na person jumps#3.5#6\n")
    yaml = tmp_path / "t.yaml"
    yaml.write_text(
        "- {text: a person walks, start: 0, end: 3.5}\n"
        "- {text: a person jumps, start: 3.5, end: 6}\n"
    )
    expected = [Segment("a person walks", 0, 70), Segment("a person jumps", 70, 120)]
    assert read_timeline(text, 20.0, 40) == expected
    assert read_timeline(yaml, 20.0, 40) == expected


@pytest.mark.parametrize(
    "content, match",
    [
        ("walk#0#3\njump#3.5#6\n", r"t.txt:2: starts at 3.5 s .* \(a gap\)"),
        ("walk#0#3\njump#2.5#6\n", r"t.txt:2: starts at 2.5 s .* \(an overlap\)"),
        ("walk#1#3\n", r"t.txt:1: starts at 1 s .* \(a gap\)"),
        ("walk#0#3\njump#3#4\n", r"t.txt:2: 20 frames \(1 s\), shorter than .* minimum of 40"),
        ("walk#0\n", r"t.txt:1: expected 'text#start#end'"),
        ("walk#0#soon\n", r"t.txt:1: end 'soon' is not a number"),
        (" #0#3\n", r"t.txt:1: empty text"),
        ("\n", "holds no segment"),
    ],
)
def test_bad_timelines_name_the_file_and_the_entry(tmp_path, content, match):
    path = tmp_path / "t.txt"
    path.write_text(content)
    with pytest.raises(InputError, match=match):
        read_timeline(path, 20.0, 40)


def test_bad_yaml_entries_are_named(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("- {text: walk, start: 0, stop: 3}\n")
    with pytest.raises(InputError, match=r"t.yaml entry 0: expected the fields text, start, end"):
        read_timeline(path, 20.0, 40)
    with pytest.raises(InputError, match="no such file"):
        read_timeline(tmp_path / "missing.txt", 20.0, 40)


@pytest.mark.parametrize("lengths", [[60], [120, 90], [300], [50, 700, 60, 250]])
def test_windows_are_short_cover_everything_and_overlap_at_seams(lengths):
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    segments = [Segment(f"s{i}", int(a), int(b)) for i, (a, b) in enumerate(pairwise(bounds))]
    windows = plan_windows(segments, max_length=196, overlap=20)
    assert all(w.length <= 196 for w in windows)
    covered = np.zeros(bounds[-1], int)
    for window in windows:
        covered[window.start : window.stop] += 1
    assert (covered >= 1).all() and windows[0].start == 0 and windows[-1].stop == bounds[-1]
    for left, right in pairwise(windows):
        assert left.stop - right.start >= 20  # every neighbour pair shares 20 frames
    for seam in bounds[1:-1]:
        assert covered[seam - 10 : seam + 10].min() >= 2
    with pytest.raises(InputError, match="overlap=99"):
        plan_windows(segments, max_length=196, overlap=99)


def test_one_segment_timeline_equals_plain_generation(generator):
    plain = generator.generate(["a person walks forward"], [60], seed=5, steps=4)[0]
    timeline = generator.generate_timeline(
        [Segment("a person walks forward", 0, 60)], seed=5, steps=4
    )
    np.testing.assert_array_equal(timeline.features, plain.features)
    assert timeline.retrieved == plain.retrieved
    assert timeline.segments[0]["windows"][0]["retrieved"] == plain.retrieved


def test_a_1000_frame_timeline_has_the_length_and_retrieval_per_window(generator):
    texts = ["a person walks forward", "a person jumps", "someone waves", "a person turns left"]
    bounds = [0, 250, 500, 800, 1000]
    segments = [Segment(t, a, b) for t, (a, b) in zip(texts, pairwise(bounds), strict=True)]
    motion = generator.generate_timeline(segments, seed=0, steps=3)
    assert motion.features.shape == (1000, 263) and motion.joints.shape == (1000, 22, 3)
    assert np.isfinite(motion.features).all() and np.isfinite(motion.joints).all()
    assert [s["text"] for s in motion.segments] == texts
    assert all(len(s["windows"]) >= 2 for s in motion.segments)  # 250+ frames: two windows
    assert all(len(w["retrieved"]) == 2 for s in motion.segments for w in s["windows"])


@pytest.mark.parametrize("smoothing", [0.0, 1.0])
def test_fused_seams_are_smoother_than_concatenated_clips(tiny_trained_run, smoothing):
    generator = MotionGenerator(tiny_trained_run[0], smoothing=smoothing)
    texts, bounds = ["a person walks forward", "a person jumps", "someone waves"], [0, 80, 160, 240]
    segments = [Segment(t, a, b) for t, (a, b) in zip(texts, pairwise(bounds), strict=True)]
    fused, pasted = [], []
    for seed in range(3):
        motion = generator.generate_timeline(segments, seed=seed, steps=5)
        clips = generator.generate(texts, [80, 80, 80], seed=seed, steps=5)
        # features concatenated: root velocities carry the path on, only the pose jumps
        features = np.concatenate([clip.features for clip in clips])
        joints = joints_from_features(features, generator.skeleton)
        fused.append(seam_jerk(motion.joints, bounds[1:-1], 20.0)["peak_jerk"])
        pasted.append(seam_jerk(joints, bounds[1:-1], 20.0)["peak_jerk"])
    assert np.mean(fused) < np.mean(pasted)


def test_smoothing_lowers_the_jerk_and_zero_is_plain_sampling(tiny_trained_run, generator):
    texts, lengths = ["a person walks forward", "a person jumps"], [80, 60]
    plain = generator.generate(texts, lengths, seed=3, steps=5)
    zero = MotionGenerator(tiny_trained_run[0], smoothing=0).generate(
        texts, lengths, seed=3, steps=5
    )
    smoothing = MotionGenerator(tiny_trained_run[0], smoothing=1)
    smooth = smoothing.generate(texts, lengths, seed=3, steps=5)
    assert (
        MotionGenerator.from_options({"ckpt": tiny_trained_run[0], "smoothing": 1}).smoothing == 1
    )
    for a, b, c in zip(plain, zero, smooth, strict=True):
        np.testing.assert_array_equal(a.features, b.features)
        assert np.median(frame_jerk(c.joints, 20.0)) < 0.5 * np.median(frame_jerk(a.joints, 20.0))
    weight = np.zeros((80, 263), np.float32)
    weight[:16] = 1.0
    known = [KnownMotion(plain[0].features, weight), None]
    continued = smoothing.generate(texts, lengths, seed=4, steps=5, known=known)
    np.testing.assert_array_equal(continued[0].features[:16], plain[0].features[:16])


def test_a_timeline_continues_a_prefix_longer_than_one_window(generator):
    segments = [Segment("a person walks forward", 0, 150), Segment("a person jumps", 150, 300)]
    first = generator.generate_timeline(segments, seed=1, steps=3)
    weight = np.zeros((300, 263), np.float32)
    weight[:220] = 1.0
    known = KnownMotion(first.features, weight)
    other = [Segment("a person runs", 0, 150), Segment("someone waves", 150, 300)]
    continued = generator.generate_timeline(other, seed=2, steps=3, known=known)
    np.testing.assert_array_equal(continued.features[:220], first.features[:220])
    assert not np.allclose(continued.features[220:], first.features[220:])
    with pytest.raises(
        InputError, match=r"segment 1: starts at 4.5 s .* ends at 7.5 s \(an overlap"
    ):
        generator.generate_timeline([other[0], Segment("a", 150 - 60, 300)], steps=3)
