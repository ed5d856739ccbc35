"""scripts/paper_analyses.py on the tiny session run, evaluator and a 240-motion test set."""

import json
import runpy
from pathlib import Path

import numpy as np
import pytest

from remodiffuse.data.synthetic import ensure_synthetic_dataset

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "paper_analyses.py"


@pytest.fixture(scope="module")
def script() -> dict:
    return runpy.run_path(str(SCRIPT))


@pytest.fixture(scope="module")
def test_root(tmp_path_factory) -> Path:
    """A synthetic set whose test split (36 items) holds more than one R-precision batch."""
    return ensure_synthetic_dataset(tmp_path_factory.mktemp("analyses") / "synthetic", 240, 1)


def test_rareness_histogram_covers_every_test_caption(
    script, tiny_trained_run, test_root, tmp_path
):
    run_dir, _ = tiny_trained_run
    report = script["main"](
        ["rareness", "--run", str(run_dir), "--root", str(test_root), "--out-dir", str(tmp_path)]
    )
    assert len(report["counts"]) == 100 and len(report["edges"]) == 101
    assert sum(report["counts"]) == report["num_captions"] == 36
    assert 0 <= report["min"] <= report["median"] <= report["max"] <= 2
    examples = [example["rareness"] for example in report["examples"]]
    assert examples == sorted(examples)
    assert examples[0] == report["min"] and examples[-1] == report["max"]
    assert json.loads((tmp_path / "rareness.json").read_text()) == report
    assert (tmp_path / "rareness.png").stat().st_size > 0


def test_lambda_sweep_scores_retrieved_motions(
    script, tiny_trained_run, tiny_evaluator_run, test_root, tmp_path
):
    run_dir, _ = tiny_trained_run
    report = script["main"](
        [
            "lambda-sweep",
            "--run",
            str(run_dir),
            "--evaluator",
            str(tiny_evaluator_run),
            "--root",
            str(test_root),
            "--lams",
            "0,100",
            "--out-dir",
            str(tmp_path),
        ]
    )
    real, free, length_bound = report["rows"]
    assert real["lam"] is None and real["fid"] == pytest.approx(0, abs=1e-6)
    assert (free["lam"], length_bound["lam"]) == (0, 100)
    for row in (free, length_bound):
        assert row["fid"] > 0 and 0 <= row["r_precision_top1"] <= row["r_precision_top3"] <= 1
        assert 1 <= row["distinct_motions"] <= 36
    # a large lambda retrieves motions of nearly the requested length
    assert length_bound["relative_length_gap"] < free["relative_length_gap"]
    assert report["evaluator"].startswith("contrastive")
    assert (tmp_path / "lambda_sweep.png").stat().st_size > 0


def _metrics(evaluator: str, run: str, fid: float) -> dict:
    """An evaluate metrics.json with one model row: FID `fid`, every other metric 0.5."""
    keys = ("r_precision_top1", "r_precision_top2", "r_precision_top3", "mm_dist")
    keys += ("tail_mm_dist", "balanced_mm_dist")
    row = {key: {"mean": 0.5, "conf95": 0.01} for key in keys} | {
        "fid": {"mean": fid, "conf95": 0.01}
    }
    return {"evaluator": evaluator, "rows": {"real motions": row, run: row}}


def test_ablation_table_lists_each_row_under_one_evaluator(script, tmp_path):
    paths = []
    for name, fid in (("full", 1.25), ("base", 2.5)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(_metrics("contrastive:x", f"run_{name}", fid)))
        paths.append(path)
    report = script["main"](
        ["ablation", "--row", f"ReMoDiffuse={paths[0]}", "--row", f"baseline={paths[1]}"]
        + ["--out-dir", str(tmp_path)]
    )
    assert list(report["rows"]) == ["real motions", "ReMoDiffuse", "baseline"]
    table = (tmp_path / "ablation.md").read_text()
    assert "contrastive:x" in table and "| baseline | 2.500 ± 0.010 |" in table
    other = tmp_path / "other.json"
    other.write_text(json.dumps(_metrics("t2m", "run_other", 1.0)))
    with pytest.raises(ValueError, match="different evaluators"):
        script["main"](["ablation", "--row", f"a={paths[0]}", "--row", f"b={other}"])
    with pytest.raises(SystemExit):
        script["main"](["ablation", "--row", "no-equals-sign"])


def test_rareness_report_quantile_examples(script):
    rare = np.array([0.35, 0.15, 0.25, 0.0, 0.4])
    report = script["rareness_report"](rare, ["d", "b", "c", "a", "e"], bins=4)
    assert report["counts"] == [1, 1, 1, 2]
    assert [e["caption"] for e in report["examples"]] == ["a", "b", "c", "d", "e", "e"]
