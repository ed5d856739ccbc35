"""scripts/retrieval_quality.py on a tiny synthetic dataset."""

import json
import math
import runpy
from pathlib import Path

import numpy as np
import pytest

from remodiffuse.metrics import tail_mm_dist

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "retrieval_quality.py"
LAMS = [0.0, 0.05, 0.1, 0.5, 1.0, 2.0]
BOUNDED = (
    "share_any_primitive",
    "primitive_jaccard",
    "same_first_primitive",
    "same_sequence",
    "repeated_motion",
    "relative_length_gap",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[dict, Path, Path]:
    """The script run on 40 motions: (JSON read back, JSON path, PNG path)."""
    directory = tmp_path_factory.mktemp("retrieval_quality")
    out_json, out_png = directory / "quality.json", directory / "quality.png"
    main = runpy.run_path(str(SCRIPT))["main"]
    main(
        [
            "--root",
            str(directory / "synthetic"),
            "--num-motions",
            "40",
            "--lams",
            ",".join(f"{lam:g}" for lam in LAMS),
            "--out-json",
            str(out_json),
            "--out-png",
            str(out_png),
        ]
    )
    return json.loads(out_json.read_text()), out_json, out_png


def test_every_lambda_is_reported_with_bounded_values(report):
    results, _, out_png = report
    assert results["lams"] == LAMS
    assert set(results["groups"]) == {"test", "train_self"}
    for group in results["groups"].values():
        assert [row["lam"] for row in group["by_lam"]] == LAMS
        for row in [*group["by_lam"], group["random_baseline"]]:
            for key in BOUNDED:
                assert 0.0 <= row[key] <= 1.0, (key, row)
            assert row["abs_length_gap_frames"] >= 0.0
    assert out_png.read_bytes().startswith(b"\x89PNG")


def test_length_gap_shrinks_as_lambda_grows(report):
    """A larger lambda penalises length differences more, so retrieved lengths get closer.

    The top-k set maximises sum(log cos) - lam * sum(gap) over k-subsets (for positive
    cosines), so its summed relative gap cannot grow with lam, per query and on average.
    """
    results, _, _ = report
    for group in results["groups"].values():
        gaps = [row["relative_length_gap"] for row in group["by_lam"]]
        assert all(
            later <= earlier + 1e-12 for earlier, later in zip(gaps, gaps[1:], strict=False)
        ), gaps
        assert gaps[-1] < gaps[0]


def test_json_has_sorted_keys(report):
    _, out_json, _ = report
    text = out_json.read_text()
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"


def test_distinct_motions_never_retrieve_one_motion_twice(report, tmp_path):
    results, _, _ = report
    main = runpy.run_path(str(SCRIPT))["main"]
    root = Path(results["root"])
    distinct = main(["--root", str(root), "--num-motions", "40", "--lams", "0.1",
                     "--distinct-motions", "--out-json", str(tmp_path / "d.json"),
                     "--out-png", str(tmp_path / "d.png")])  # fmt: skip
    assert distinct["distinct_motions"] and not results["distinct_motions"]
    for group in distinct["groups"].values():
        assert group["by_lam"][0]["repeated_motion"] == 0.0
    assert any(g["by_lam"][2]["repeated_motion"] > 0 for g in results["groups"].values())


def test_ordered_keys_are_scored_as_their_own_configuration(report, tmp_path):
    results, _, _ = report
    main = runpy.run_path(str(SCRIPT))["main"]
    ordered = main(["--root", results["root"], "--num-motions", "40", "--lams", "0.1",
                    "--key", "ordered", "--key-parts", "2", "--out-json", str(tmp_path / "o.json"),
                    "--out-png", str(tmp_path / "o.png")])  # fmt: skip
    assert (ordered["key"], ordered["key_parts"]) == ("ordered", 2)
    assert (results["key"], results["key_parts"]) == ("sentence", None)
    plain, other = results["groups"]["test"]["by_lam"][2], ordered["groups"]["test"]["by_lam"][0]
    assert plain["lam"] == other["lam"] == 0.1
    assert plain["mean_cosine"] != other["mean_cosine"]  # other keys, other neighbours


def test_rarest_and_rest_partition_the_test_queries(report):
    """The tail and the rest split every query's pairs: their weighted means give the whole."""
    results, _, _ = report
    group = results["groups"]["test"]
    queries, rare = group["num_queries"], group["num_tail_queries"]
    assert rare == math.ceil(results["tail_fraction"] * queries) >= 1
    assert "tail" not in results["groups"]["train_self"]["by_lam"][0]
    for row in group["by_lam"]:
        for key in ("same_sequence", "primitive_jaccard", "mean_cosine"):
            whole = (rare * row["tail"][key] + (queries - rare) * row["rest"][key]) / queries
            assert whole == pytest.approx(row[key], abs=1e-12), key
        for part in ("tail", "rest"):  # no retrieval finds a sequence the database lacks
            assert row[part]["same_sequence"] <= group["sequence_in_database"][part] + 1e-12


def test_rarest_marks_the_items_tail_mm_averages_over():
    rarest = runpy.run_path(str(SCRIPT))["rarest"]
    rare = np.random.default_rng(0).random(41)
    tail = rarest(rare, 0.05)
    assert tail.sum() == 3
    assert rare[tail].mean() == pytest.approx(tail_mm_dist(rare, rare, 0.05), abs=1e-15)
    assert np.flatnonzero(rarest(np.zeros(20), 0.05)).tolist() == [19]  # ties: higher index rarer
