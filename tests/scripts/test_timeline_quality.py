"""scripts/timeline_quality.py on the tiny run, evaluator and synthetic set."""

import json
import runpy
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "timeline_quality.py"


@pytest.mark.slow
def test_the_table_has_every_row_and_finite_numbers(tiny_trained_run, tiny_evaluator_run, tmp_path):
    run_dir, _ = tiny_trained_run
    main = runpy.run_path(str(SCRIPT))["main"]
    arguments = ["--run", str(run_dir), "--evaluator", str(tiny_evaluator_run)]
    arguments += ["--root", str(run_dir.parent / "data" / "synthetic"), "--segments", "2,3"]
    main([*arguments, "--timelines", "2", "--steps", "3", "--out-dir", str(tmp_path)])
    report = json.loads((tmp_path / "timeline.json").read_text())
    assert list(report["segments"]) == ["2", "3"]
    for row in report["segments"].values():
        for kind in ("fused timeline", "single clips"):
            assert row[kind]["fid"] >= 0 and 0 <= row[kind]["r_precision_top1"] <= 1
        for kind in ("fused timeline", "naive concatenation"):
            assert row[kind]["peak_jerk"] > 0 and row[kind]["area_under_jerk"] > 0
    assert report["real motions"]["seams"] >= 0
    assert "| 3 |" in (tmp_path / "timeline.md").read_text()
    profile = report["jerk by frames to the seam"]
    assert len(profile["bins"]) == len(profile["fused timeline"]) == 5
    assert all(v > 0 for v in profile["naive concatenation"])
    assert (tmp_path / "timeline.png").stat().st_size > 0

    smooth = tmp_path / "smooth"
    main(
        [*arguments, "--segments", "2", "--timelines", "2", "--steps", "3", "--smoothing", "1"]
        + ["--out-dir", str(smooth)]
    )
    smoothed = json.loads((smooth / "timeline.json").read_text())
    assert smoothed["settings"]["smoothing"] == 1.0
    plain, soft = report["segments"]["2"], smoothed["segments"]["2"]
    assert soft["fused timeline"]["median_jerk"] < plain["fused timeline"]["median_jerk"]
    main(["--combine", str(tmp_path), str(smooth), "--out-dir", str(tmp_path / "both")])
    summary = json.loads((tmp_path / "both" / "timeline_runs.json").read_text())
    cell = summary["segments"]["2"]["PJ fused"]
    values = [plain["fused timeline"]["peak_jerk"], soft["fused timeline"]["peak_jerk"]]
    assert cell["mean"] == pytest.approx(np.mean(values))
    assert cell["sd"] == pytest.approx(np.std(values, ddof=1))
    assert "| 2 |" in (tmp_path / "both" / "timeline_runs.md").read_text()
    assert (tmp_path / "both" / "timeline_runs.png").stat().st_size > 0
