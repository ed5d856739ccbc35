"""The demo's one generation at a time: checked requests run on the generator, with progress.

The model is called from one request thread at a time; a request arriving while another runs
is refused with `BusyError` (the server answers 409). The request's mixture preset is set on
the generator for the job's duration.
"""

import threading
import time
from typing import Any

from remodiffuse.diffusion import MIXTURE_FILENAME, ConditionMixture, load_mixture_yaml
from remodiffuse.errors import InputError
from remodiffuse.pipeline import GeneratedMotion, MotionGenerator
from remodiffuse.serve.api import MAX_SAMPLES, MAX_TEXT_CHARS, GenerationRequest, parse_request
from remodiffuse.serve.results import ResultStore


class BusyError(Exception):
    """A generation is already running; `progress` is its progress."""

    def __init__(self, progress: dict[str, Any]) -> None:
        super().__init__("busy: another generation is running, try again when it is done")
        self.progress = progress


class GenerationService:
    """Runs requests on one MotionGenerator, one at a time, and stores their results."""

    def __init__(self, generator: MotionGenerator, store: ResultStore) -> None:
        self.generator, self.store = generator, store
        self.fps = float(generator.config["dataset"]["fps"])
        run_mixture = generator.run_dir / MIXTURE_FILENAME
        self.mixtures: dict[str, ConditionMixture | None] = {
            "default": generator.mixture,
            "released": ConditionMixture.released(generator.config["dataset"]["name"]),
            "paper": load_mixture_yaml(run_mixture) if run_mixture.is_file() else None,
        }
        self._running = threading.Lock()
        self._progress_lock = threading.Lock()
        self._progress: dict[str, Any] = {"busy": False}

    def parse(self, body: bytes) -> GenerationRequest:
        """The checked request of a JSON body (InputError otherwise)."""
        return parse_request(body, self.generator, self.fps)

    def info(self) -> dict[str, Any]:
        """What the page needs to know of the model: lengths, fps, limits, mixture presets."""
        return {
            "min_length": self.generator.min_length,
            "max_length": self.generator.max_length,
            "fps": self.fps,
            "skeleton": self.generator.skeleton,
            "max_samples": MAX_SAMPLES,
            "max_text_chars": MAX_TEXT_CHARS,
            "mixtures": [name for name, mixture in self.mixtures.items() if mixture is not None],
        }

    def progress(self) -> dict[str, Any]:
        """{"busy": false} or the running job's {"busy": true, "step", "total", "elapsed"}."""
        with self._progress_lock:
            progress = dict(self._progress)
        if progress["busy"]:
            progress["elapsed"] = round(time.monotonic() - progress.pop("started"), 3)
        return progress

    def run(self, request: GenerationRequest) -> dict[str, Any]:
        """Generate the request's samples and store them; the answer of `ResultStore.add`.
        BusyError while another request runs."""
        mixture = self.mixtures[request.mixture]
        if mixture is None:
            raise InputError(
                f"mixture='paper': {self.generator.run_dir} has no {MIXTURE_FILENAME} "
                "(the mixture finetune writes it: train experiment=mixture)"
            )
        if not self._running.acquire(blocking=False):
            raise BusyError(self.progress())
        try:
            self.generator.mixture = mixture
            motions = self._generate(request)
            return self.store.add(motions, self.generator.skeleton, self.fps)
        finally:
            self.generator.mixture = self.mixtures["default"]
            self._report({"busy": False})
            self._running.release()

    def _generate(self, request: GenerationRequest) -> list[GeneratedMotion]:
        steps = self.generator.sampler(request.steps, request.sampler).num_steps
        calls = request.num_samples if request.segments else 1
        started = time.monotonic()
        self._report({"busy": True, "step": 0, "total": calls * steps, "started": started})
        options = {"steps": request.steps, "sampler": request.sampler}
        if not request.segments:
            texts = [request.text] * request.num_samples
            lengths = [request.length] * request.num_samples
            return self.generator.generate(
                texts, lengths, seed=request.seed, on_step=self._on_step(0, steps), **options
            )
        return [
            self.generator.generate_timeline(
                request.segments,
                seed=request.seed + sample,
                overlap=request.overlap,
                on_step=self._on_step(sample, steps),
                **options,
            )
            for sample in range(request.num_samples)
        ]

    def _on_step(self, call: int, steps: int):
        """A step report for the call-th sampling of the job, counting the job's steps."""

        def report(done: int, _total: int) -> None:
            with self._progress_lock:
                self._progress["step"] = call * steps + done

        return report

    def _report(self, progress: dict[str, Any]) -> None:
        with self._progress_lock:
            self._progress = progress
