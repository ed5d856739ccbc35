"""The demo page in Debian's headless Chromium: generate, watch it play, pause, scrub, download.

REMODIFFUSE_WRITE_SCREENSHOT=1 saves the page to docs/serve.png (otherwise nothing is written
into the repository).
"""

import base64
import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from remodiffuse.io import read_bvh

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "serve.png"
TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: the page test drives Debian's chromium package"
        print(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def canvas_pixels(page) -> np.ndarray:
    """(H, W, 3) uint8 of the viewer canvas, read with toDataURL (preserveDrawingBuffer)."""
    url = page.evaluate("document.getElementById('viewer').toDataURL('image/png')")
    image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    return np.asarray(image.convert("RGB"))


def changed_fraction(first: np.ndarray, second: np.ndarray) -> float:
    return float((np.abs(first.astype(int) - second).sum(axis=-1) > 0).mean())


def test_page_generates_plays_and_downloads_a_motion(browser, demo_server, tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 700}, accept_downloads=True)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(demo_server.url)
    page.fill("#text", "a person waves the right hand")
    page.fill("#length", "80")
    page.click("#generate")
    page.locator("#retrieved li").first.wait_for(timeout=TIMEOUT_MS)
    assert page.inner_text("#status") == "done" and page.input_value("#length") == "80"
    captions = page.locator("#retrieved li").all_inner_texts()
    assert captions and all(caption.strip() for caption in captions)

    page.wait_for_timeout(400)
    first = canvas_pixels(page)
    page.wait_for_timeout(800)
    second = canvas_pixels(page)
    assert len(np.unique(first.reshape(-1, 3), axis=0)) > 20, "the canvas is blank"
    assert changed_fraction(first, second) > 0.001, "the animation does not move"
    if os.environ.get("REMODIFFUSE_WRITE_SCREENSHOT") == "1":
        page.screenshot(path=str(SCREENSHOT))

    page.click("#play")
    assert page.inner_text("#play") == "Play"
    paused = canvas_pixels(page)
    page.wait_for_timeout(500)
    assert changed_fraction(paused, canvas_pixels(page)) == 0, "pause does not stop the motion"
    page.locator("#scrub").fill("500")
    page.wait_for_timeout(200)
    time, duration = (float(value) for value in page.inner_text("#clock").split()[0:3:2])
    assert duration == pytest.approx(79 / 20, abs=0.06)  # the clip's last frame time
    assert time == pytest.approx(duration / 2, abs=0.06)
    assert changed_fraction(paused, canvas_pixels(page)) > 0.001, "scrubbing shows no other pose"

    with page.expect_download() as download:
        page.click("#downloads a.download-bvh")
    saved = tmp_path / "downloaded.bvh"
    download.value.save_as(saved)
    assert read_bvh(saved).positions.shape[0] == 80
    assert not errors
    page.close()
