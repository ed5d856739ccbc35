"""`python -m remodiffuse.build_index` builds a database that loads and answers exactly."""

import subprocess
import sys

import numpy as np

from remodiffuse.retrieval import RetrievalDatabase


def test_build_index_cli_builds_and_reuses_the_cache(tmp_path):
    command = [
        sys.executable,
        "-m",
        "remodiffuse.build_index",
        f"paths.data_dir={tmp_path / 'data'}",
        "dataset.synthetic.num_motions=30",
        f"out_dir={tmp_path / 'db'}",
    ]
    first = subprocess.run(command, check=True, capture_output=True, text=True, cwd=tmp_path)
    assert "building text feature cache" in first.stdout + first.stderr
    assert "retrieves:" in first.stdout
    second = subprocess.run(command, check=True, capture_output=True, text=True, cwd=tmp_path)
    assert "text feature cache hit" in second.stdout + second.stderr

    database = RetrievalDatabase.load(tmp_path / "db")
    assert len(database) == len(database.captions) > 0
    norms = np.linalg.norm(database.sentence_features, axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    query = database.sentence_features[:3]
    lengths = np.array([60, 100, 196])
    indices, scores = database.query(query, lengths, k=2, exclude="none")
    cosine = database.sentence_features @ query.T  # (N, 3)
    gap = np.abs(database.lengths[:, None] - lengths) / np.maximum(
        database.lengths[:, None], lengths
    )
    brute = cosine * np.exp(-0.1 * gap)  # (N, 3)
    np.testing.assert_allclose(scores, np.sort(brute, axis=0)[::-1][:2].T, atol=1e-6)
