"""The generator's step reports, which the demo's GET /progress shows."""

from remodiffuse.pipeline.timeline import Segment


def test_generate_reports_every_sampler_step(serve_generator):
    reports = []
    serve_generator.generate(
        ["a person jumps"] * 2, [40, 48], steps=4, on_step=lambda *r: reports.append(r)
    )
    assert reports == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_timeline_reports_every_sampler_step(serve_generator):
    reports = []
    segments = [Segment("a person walks", 0, 60), Segment("a person jumps", 60, 120)]
    serve_generator.generate_timeline(segments, steps=3, on_step=lambda *r: reports.append(r))
    assert reports == [(1, 3), (2, 3), (3, 3)]
