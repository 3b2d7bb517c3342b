"""The status page in real headless Chromium against the local stack (`mediaflow up`'s server)."""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright

from mediaflow.stack import LocalStack
from mediaflow.web import StatusPageServer
from tests.conftest import ARTIFACTS
from tests.integration.jobs import fail_first_invoke, function_pool, run_upload
from tests.text_eval import samples as text_samples
from tests.videos import padded_to

pytestmark = pytest.mark.integration

CHROMIUM = os.environ.get("MEDIAFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def page_url(stack: LocalStack) -> Iterator[str]:
    server = StatusPageServer(stack, port=0).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _upload_and_open(page: Page, url: str, file: Path) -> None:
    page.goto(url)
    page.set_input_files("#file-input", str(file))
    expect(page.locator("#upload-list")).to_contain_text("uploaded", timeout=30_000)
    row = page.locator("#job-rows tr", has_text=file.name).first
    expect(row).to_be_visible(timeout=30_000)  # the list refreshes itself: no reload
    expect(row.locator("td").first).to_have_text(file.name)  # the name, not uploads/<uuid>/...
    row.click()
    expect(page.locator("#job-title")).to_have_text(file.name)


def test_upload_a_photo_and_watch_it_succeed(page: Page, page_url: str, samples: dict[str, Path]) -> None:
    _upload_and_open(page, page_url, samples["astronaut-portrait-exif6.jpg"])

    expect(page.locator("#job-status")).to_have_text("SUCCEEDED", timeout=60_000)
    renditions = page.locator("#renditions img")
    expect(renditions).to_have_count(2)
    page.wait_for_function("[...document.querySelectorAll('#renditions img')].every(i => i.naturalWidth > 0)")
    assert page.locator("#renditions img").first.evaluate("i => i.naturalHeight > i.naturalWidth"), "portrait"
    expect(page.locator("#detections")).to_contain_text("person")
    expect(page.locator("#detections .box")).to_have_count(1)
    expect(page.locator('#graph g[data-state="Aggregate"]')).to_have_attribute("data-status", "succeeded")
    expect(page.locator('#graph g[data-state="DuplicateEvent"]')).to_have_attribute("data-status", "idle")
    expect(page.locator("#emails")).to_contain_text("MediaFlow job SUCCEEDED (image)", timeout=10_000)
    _shot(page, "job-succeeded")


def _boxes(page: Page, *states: str) -> dict[str, dict[str, float]]:
    """Where each state's box is drawn, in the graph's own (SVG) units, read in one go.

    One evaluation, not one bounding_box() per state: the page keeps loading (images, the job list refreshing), so
    viewport coordinates read one after another can shift between reads.
    """
    boxes = page.evaluate(
        """states => Object.fromEntries(states.map(state => {
            const rect = document.querySelector(`#graph g[data-state="${state}"] rect`);
            return [state, rect && Object.fromEntries(
                ["x", "y", "width", "height"].map(k => [k, Number(rect.getAttribute(k))]))];
        }))""",
        list(states),
    )
    missing = [state for state, box in boxes.items() if box is None]
    assert not missing, f"not drawn: {missing}"
    return boxes


def _centre_x(box: dict[str, float]) -> float:
    return box["x"] + box["width"] / 2


def test_a_corrupt_file_shows_the_named_error_and_the_failed_state(
    page: Page, page_url: str, samples: dict[str, Path], tmp_path: Path
) -> None:
    broken = tmp_path / "broken photo.jpg"
    data = samples["rocket.jpg"].read_bytes()
    broken.write_bytes(data[: len(data) // 3])
    _upload_and_open(page, page_url, broken)

    expect(page.locator("#job-status")).to_have_text("FAILED", timeout=60_000)
    expect(page.locator("#failure-error")).to_have_text("CorruptMedia")
    expect(page.locator("#failure")).to_contain_text("damaged or truncated")
    expect(page.locator('#graph g[data-state="Validate"]')).to_have_attribute("data-status", "failed")
    expect(page.locator('#graph g[data-state="JobFailed"]')).to_have_attribute("data-status", "failed")
    expect(page.locator('#graph g[data-state="NotifyFailure"]')).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#renditions-block")).to_be_hidden()
    expect(page.locator("#outputs")).to_have_text("None: a failed job keeps no outputs.")
    expect(page.locator("#job-summary")).not_to_contain_text("unknown")  # Validate never said what it was
    # Only the Catch this job took is drawn, and the failure path has a column of its own.
    expect(page.locator("#graph line.catch")).to_have_count(1)
    expect(page.locator('#graph line.catch[data-edge="Validate->DiscardPartialOutputs"]')).to_have_count(1)
    boxes = _boxes(page, "DiscardPartialOutputs", "RecordFailure", "JobFailed", "ExtractFrames")
    failure_column = {_centre_x(boxes[name]) for name in ("DiscardPartialOutputs", "RecordFailure", "JobFailed")}
    assert len(failure_column) == 1 and failure_column.pop() > _centre_x(boxes["ExtractFrames"])
    assert _crossings(_drawn_edges(page)) == [], "no edge of a failed job's workflow crosses another"
    _shot(page, "job-failed")


def test_works_on_a_phone_sized_screen(browser: Browser, page_url: str, stack: LocalStack) -> None:
    # A failed job in the list: its error name (one long word, "UnsupportedMediaType") pushed the
    # table 36 px past a phone's width until names could break between their words.
    failed = run_upload(stack, b"just some text, not a photo\n" * 4, "uploads/phone-check-notes.jpg")
    assert failed.job["error"] == "UnsupportedMediaType", failed.job
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.goto(page_url)
    expect(phone.locator("tbody .error-name").first).to_have_text("UnsupportedMediaType")
    expect(phone.get_by_label("Choose files to upload")).to_be_attached()
    expect(
        phone.get_by_role("button", name="Drop an image or video here, or press Enter to choose a file")
    ).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"no horizontal scrolling on a phone (content is {width}px wide)"
    _shot(phone, "phone")
    context.close()


def test_drag_and_drop_a_video_shows_its_timeline_and_contact_sheet(
    page: Page, page_url: str, samples: dict[str, Path]
) -> None:
    video = samples["astronaut-pan.mp4"]
    page.goto(page_url)
    page.evaluate(
        """({name, b64, type}) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type}));
            const zone = document.querySelector('#dropzone');
            zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: transfer, bubbles: true, cancelable: true}));
            zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }""",
        {"name": "dropped walk.mp4", "b64": base64.b64encode(video.read_bytes()).decode(), "type": "video/mp4"},
    )
    expect(page.locator("#upload-list")).to_contain_text("uploaded", timeout=30_000)
    row = page.locator("#job-rows tr", has_text="dropped walk.mp4").first
    row.click()

    expect(page.locator("#job-status")).to_have_text("SUCCEEDED", timeout=90_000)
    expect(row.locator("td").nth(1)).to_have_text("video")  # the list follows the job to its end
    expect(row.locator(".status")).to_have_text("SUCCEEDED")
    segment = page.locator('.timeline-bars .segment[aria-label^="person: 0 s"]')  # the timeline, drawn as a bar
    expect(segment).to_have_count(1)
    expect(page.locator('#detections img[alt="Contact sheet of sampled frames"]')).to_be_visible()
    expect(page.locator(".scenes h3")).to_have_text("1 scene")  # one continuous pan: one shot
    scene = page.locator('.scene-strip li[data-scene="1"]')
    expect(scene.locator(".scene-time")).to_have_text(re.compile(r"^0 s – 1[12](\.\d+)? s$"))
    expect(scene.locator(".scene-labels")).to_have_text("person")
    page.wait_for_function("document.querySelector('.scene-strip img').naturalWidth > 0")
    expect(page.locator('#graph g[data-state="DetectBatch"]')).to_have_attribute("data-status", "succeeded")
    expect(page.locator('#graph g[data-state="TransformImage"]')).to_have_attribute("data-status", "idle")
    expect(page.locator("#graph line.catch")).to_have_count(0)  # nothing was caught
    # Top to bottom like the console: a Map's processor below it, its Next below the processor.
    descent = ("ExtractFrames", "SampleSegments", "SampleSegment", "DetectSegmentBatches", "DetectBatch", "Aggregate")
    boxes = _boxes(page, *descent)
    rows = [boxes[name]["y"] for name in descent]
    assert rows == sorted(rows) and len(set(rows)) == len(rows)
    assert _crossings(_drawn_edges(page)) == [], "no edge of the video's workflow crosses another"
    _shot(page, "video-job")


def test_an_upload_links_to_its_job_and_links_open_jobs(
    page: Page, page_url: str, stack: LocalStack, samples: dict[str, Path], tmp_path: Path
) -> None:
    """The bug: an upload stayed at "processing starts in a moment", and #job= in an open tab did nothing."""
    photo = tmp_path / "linked photo.jpg"
    photo.write_bytes(samples["coffee.jpg"].read_bytes() + b"linked")
    page.goto(page_url)
    page.set_input_files("#file-input", str(photo))
    link = page.locator("#upload-list a.job-link")
    expect(link).to_be_visible(timeout=30_000)
    link.click()
    expect(page.locator("#job-title")).to_have_text("linked photo.jpg")
    expect(page.locator("#job-status")).to_have_text("SUCCEEDED", timeout=60_000)
    _shot(page, "upload-linked-to-job")

    other = run_upload(stack, samples["rocket.jpg"].read_bytes() + b"hash", "uploads/by hash.jpg")
    page.evaluate("id => { location.hash = 'job=' + encodeURIComponent(id); }", other.job["jobId"])
    expect(page.locator("#job-title")).to_have_text("by hash.jpg")
    page.evaluate("arn => { location.hash = 'execution=' + encodeURIComponent(arn); }", other.execution["executionArn"])
    expect(page.locator("#job-title")).to_have_text("by hash.jpg")
    page.evaluate("id => { location.hash = 'job=' + encodeURIComponent(id); }", other.job["jobId"])
    page.goto(f"{page_url}#execution={other.execution['executionArn']}")  # an email's link, opened fresh
    expect(page.locator("#job-title")).to_have_text("by hash.jpg")


def test_the_result_comes_before_the_workflow(page: Page, page_url: str, samples: dict[str, Path]) -> None:
    _upload_and_open(page, page_url, samples["chelsea-transparent.png"])
    expect(page.locator("#job-status")).to_have_text("SUCCEEDED", timeout=60_000)
    expect(page.locator("#renditions img").first).to_be_visible()
    # Both read in one synchronous evaluation: the job list above refreshes itself every few
    # seconds, and a row added between two separate reads moved the whole job section.
    renditions_y, graph_y = page.evaluate(
        "['#renditions-block', '#graph'].map(s => document.querySelector(s).getBoundingClientRect().top)"
    )
    assert renditions_y < graph_y, "renditions and detections first, the workflow after"
    _shot(page, "result-first")


def test_the_text_in_a_photo_is_listed_and_searchable(page: Page, page_url: str, tmp_path: Path) -> None:
    sample = next(s for s in text_samples() if s.name == "rocket.jpg")  # two lines drawn on a launch photo
    photo = tmp_path / "launch notice.jpg"
    Image.fromarray(sample.image).save(photo, quality=92)
    _upload_and_open(page, page_url, photo)

    expect(page.locator("#job-status")).to_have_text("SUCCEEDED", timeout=60_000)
    section = page.locator("#detections section.text")
    expect(section.locator("h3")).to_have_text("2 lines of text")
    lines = section.locator("li.text-line")
    expect(lines.locator("q")).to_have_text(["Launch window", "Tuesday 14:30 UTC"])
    section.locator('input[type="search"]').fill("14:30")
    expect(lines.nth(0)).to_be_hidden()
    expect(lines.nth(1)).to_be_visible()
    section.locator('input[type="search"]').fill("")
    expect(lines.nth(0)).to_be_visible()
    _shot(page, "text-found")


def test_a_running_job_never_shows_another_jobs_email(
    page: Page, page_url: str, stack: LocalStack, samples: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bug: a running video job showed the previous image job's email."""
    finished = run_upload(stack, samples["rocket.jpg"].read_bytes() + b"mail", "uploads/mailed.jpg")
    extract = function_pool(stack, "ExtractFramesFunction")
    real_invoke = extract.invoke

    def slow_invoke(payload: bytes) -> Any:  # keeps the video job RUNNING while the page is looked at
        time.sleep(6)
        return real_invoke(payload)

    monkeypatch.setattr(extract, "invoke", slow_invoke)
    page.goto(f"{page_url}#job={finished.job['jobId']}")
    expect(page.locator("#emails")).to_contain_text("MediaFlow job SUCCEEDED (image)", timeout=10_000)
    page.set_input_files("#file-input", str(samples["astronaut-pan.mp4"]))
    link = page.locator("#upload-list a.job-link")
    expect(link).to_be_visible(timeout=30_000)
    link.click()
    expect(page.locator("#job-title")).to_have_text("astronaut-pan.mp4")
    expect(page.locator("#job-status")).to_have_text("RUNNING")
    expect(page.locator("#emails-block")).to_be_hidden()
    expect(page.locator("#job-summary")).to_contain_text("video")  # the kind shows while it runs (not "–")
    expect(page.locator("#job-status")).to_have_text("RUNNING")
    expect(page.locator("#job-status")).to_have_text("SUCCEEDED", timeout=90_000)
    expect(page.locator("#emails")).to_contain_text("MediaFlow job SUCCEEDED (video)", timeout=10_000)
    expect(page.locator("#emails")).not_to_contain_text("(image)")
    expect(page.locator(".timeline-bars .segment").first).to_be_visible()  # the timeline is a bar
    _shot(page, "video-timeline-bars")


def test_a_finished_job_fits_a_360_px_phone_with_readable_text(
    browser: Browser, page_url: str, stack: LocalStack, samples: dict[str, Path]
) -> None:
    """The bug: 448 px of page in a 390 px viewport, the Started column off-screen, graph text ~4 px."""
    run = run_upload(stack, b"", "uploads/a rather long file name for a small phone screen.jpg")
    context = browser.new_context(viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.goto(f"{page_url}#job={run.job['jobId']}")
    expect(phone.locator("#job-status")).to_have_text("FAILED", timeout=30_000)
    expect(phone.locator("#failure-error")).to_have_text("EmptyMedia")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width}px wide in a 360px viewport"
    text_height = phone.evaluate("document.querySelector('#graph svg text').getBoundingClientRect().height")
    assert text_height >= 9, f"graph text is {text_height}px tall"
    _shot(phone, "phone-job")
    context.close()


def test_reprocess_a_failed_job_from_the_page(page: Page, page_url: str, stack: LocalStack) -> None:
    failed = run_upload(stack, b"", "uploads/empty for the page.jpg")
    page.goto(f"{page_url}#job={failed.job['jobId']}")
    expect(page.locator("#job-status")).to_have_text("FAILED", timeout=30_000)
    page.get_by_role("button", name="Reprocess").click()
    expect(page.locator("#job-summary")).to_contain_text("attempt 2", timeout=30_000)
    expect(page.locator("#job-status")).to_have_text("FAILED", timeout=60_000)  # still empty: fails again, named
    expect(page.locator("#failure-error")).to_have_text("EmptyMedia")
    _shot(page, "reprocessed-job")


def _drawn_edges(page: Page) -> list[dict[str, float]]:
    lines = page.evaluate(
        "() => [...document.querySelectorAll('#graph line')].map(l => ({"
        "x1: +l.getAttribute('x1'), y1: +l.getAttribute('y1'), x2: +l.getAttribute('x2'), y2: +l.getAttribute('y2')}))"
    )
    assert lines, "the graph draws its edges"
    return lines


def _crossings(lines: list[dict[str, float]]) -> list[tuple[int, int]]:
    """Pairs of drawn edges that cross (edges meeting at a shared box do not count)."""

    def orientation(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> float:
        return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)

    found = []
    for i, a in enumerate(lines):
        for j, b in enumerate(lines[i + 1 :], i + 1):
            ends_a = {(a["x1"], a["y1"]), (a["x2"], a["y2"])}
            if ends_a & {(b["x1"], b["y1"]), (b["x2"], b["y2"])}:
                continue
            d1 = orientation(a["x1"], a["y1"], a["x2"], a["y2"], b["x1"], b["y1"])
            d2 = orientation(a["x1"], a["y1"], a["x2"], a["y2"], b["x2"], b["y2"])
            d3 = orientation(b["x1"], b["y1"], b["x2"], b["y2"], a["x1"], a["y1"])
            d4 = orientation(b["x1"], b["y1"], b["x2"], b["y2"], a["x2"], a["y2"])
            if d1 * d2 < 0 and d3 * d4 < 0:
                found.append((i, j))
    return found


def test_the_execution_view_shows_what_the_console_shows(
    page: Page, page_url: str, stack: LocalStack, samples: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_first_invoke(function_pool(stack, "TransformImageFunction"), monkeypatch)  # retried: 2 attempts
    run = run_upload(stack, samples["rocket.jpg"].read_bytes() + b"view", "uploads/console view.jpg")
    assert run.status == "SUCCEEDED"
    api = page.request.get(f"{page_url}api/jobs/{run.job['jobId']}").json()
    page.goto(f"{page_url}#job={run.job['jobId']}")
    expect(page.locator("#job-status")).to_have_text("SUCCEEDED", timeout=30_000)

    rows = page.locator("#state-rows tr")
    expect(rows).to_have_count(len(api["states"]))
    transform_row = page.locator('#state-rows tr[data-state-row="TransformImage"]')
    expect(transform_row).to_contain_text("2 attempts")
    expect(transform_row).to_contain_text("Lambda.ServiceException")
    expect(transform_row.locator(".duration")).to_have_text(re.compile(r"^\d+(\.\d+)? m?s$"))
    validate_row = page.locator('#state-rows tr[data-state-row="Validate"]')
    validate_row.locator("summary").click()
    expect(validate_row.locator("pre.io").first).to_contain_text('"job"')  # its input: the job document
    expect(validate_row.locator("pre.io").nth(1)).to_contain_text('"media"')  # its output adds the media
    first = page.locator('#state-rows tr[data-state-row="DescribeUpload"]')
    first.locator("summary").click()
    expect(first.locator("pre.io").first).to_contain_text('"detail-type": "Object Created"')

    expect(page.locator("#gantt .gantt-bar")).to_have_count(len(api["states"]))
    page.locator("#events-block summary").click()
    expect(page.locator("#event-count")).to_have_text(str(len(api["events"])))
    expect(page.locator("#event-rows tr")).to_have_count(len(api["events"]))
    expect(page.locator("#event-rows tr").first).to_contain_text("ExecutionStarted")

    assert _crossings(_drawn_edges(page)) == [], "no edge of the drawn workflow crosses another"
    _shot(page, "execution-view")


def test_a_large_video_goes_up_in_parts_with_one_bar_and_a_retried_part(
    page: Page, page_url: str, stack: LocalStack, samples: dict[str, Path], tmp_path: Path
) -> None:
    """Over 64 MB: the page starts a multipart upload, PUTs the parts in parallel, retries the
    part the network drops once, completes it, and the workflow processes the object."""
    big = tmp_path / "big holiday clip.mp4"
    big.write_bytes(padded_to(samples["astronaut-pan.mp4"].read_bytes(), 65 * 1024 * 1024))
    dropped: list[str] = []

    def drop_part_two_once(route: Any) -> None:
        if not dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r".*[?&]partNumber=2&.*"), drop_part_two_once)
    parts: list[str] = []
    page.on("request", lambda request: parts.append(request.url) if request.method == "PUT" else None)
    _upload_and_open(page, page_url, big)

    expect(page.locator("#job-status")).to_have_text("SUCCEEDED", timeout=120_000)
    assert len(dropped) == 1
    assert len(parts) == 5 + 1, "65 MiB in 16 MiB parts, part 2 sent twice"
    assert page.locator("#upload-list progress").count() == 1
    assert page.locator("#upload-list progress").get_attribute("value") == "100"
    (job,) = [j for j in stack.jobs() if j["key"].endswith("/big holiday clip.mp4")]
    assert int(job["size"]) == big.stat().st_size and job["status"] == "SUCCEEDED"
    leftovers = stack.client("s3").list_multipart_uploads(Bucket=stack.bucket).get("Uploads", [])
    assert leftovers == [], "the upload was completed, not left open"
