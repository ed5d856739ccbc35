"""The result store: files by (id, name) only, the newest results kept, all deleted on close."""

import pytest

from remodiffuse.serve.results import ResultStore


@pytest.fixture(scope="module")
def motions(serve_generator):
    return serve_generator.generate(["a person jumps"], [40], seed=0, steps=2)


def test_store_keeps_the_newest_results_and_deletes_all_on_close(motions):
    store = ResultStore(capacity=2)
    ids = [store.add(motions, "humanml3d", 20.0)["id"] for _ in range(3)]
    assert store.file(ids[0], "0.bvh") is None
    assert not (store.root / ids[0]).exists()
    path, content_type = store.file(ids[2], "0.joints.npy")
    assert path.parent == store.root / ids[2] and content_type == "application/octet-stream"
    assert store.file(ids[2], "0.bvh")[1].startswith("text/plain")
    store.close()
    assert not store.root.exists() and store.file(ids[2], "0.bvh") is None


@pytest.mark.parametrize(
    "result_id, name",
    [
        ("../" * 3, "0.bvh"),
        ("{id}", "../{id}/0.bvh"),
        ("{id}", "/etc/passwd"),
        ("{id}", "0.bvh/"),
        ("{id}", "0.npy"),
        ("{ID}", "0.bvh"),
    ],
)
def test_names_other_than_id_and_file_kind_find_nothing(motions, result_id, name):
    store = ResultStore()
    try:
        stored = store.add(motions, "humanml3d", 20.0)["id"]
        fill = {"id": stored, "ID": stored.upper()}
        assert store.file(result_id.format(**fill), name.format(**fill)) is None
        assert store.file(stored, "0.bvh") is not None
    finally:
        store.close()
