"""The protocol's report: metrics.json and the metrics.md table."""

import json
from pathlib import Path
from typing import Any

from remodiffuse.evaluation.protocol import METRIC_COLUMNS
from remodiffuse.files import write_text


def metrics_markdown(result: dict[str, Any]) -> str:
    """metrics.md: the evaluator on the first line, then one table row per evaluated row."""
    lines = [
        f"Evaluator: `{result['evaluator']}`",
        "",
        f"Checkpoint: `{result['checkpoint']}`; {result['replications']} replication(s), "
        f"{result['settings']['num_test_items']} test items; mean ± 95% interval.",
        "",
        "| | " + " | ".join(METRIC_COLUMNS.values()) + " |",
        "|---|" + "---|" * len(METRIC_COLUMNS),
    ]
    for row, metrics in result["rows"].items():
        cells = [
            f"{metrics[key]['mean']:.4f} ± {metrics[key]['conf95']:.4f}" if key in metrics else "-"
            for key in METRIC_COLUMNS
        ]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_results(result: dict[str, Any], out_dir: str | Path) -> tuple[Path, Path]:
    """Write metrics.json and metrics.md into out_dir (created); returns both paths."""
    out = Path(out_dir)
    json_path, md_path = out / "metrics.json", out / "metrics.md"
    write_text(json_path, json.dumps(result, indent=2) + "\n")
    write_text(md_path, metrics_markdown(result))
    return json_path, md_path
