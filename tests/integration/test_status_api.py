"""Every status API route, through the local server's API Gateway v2 adapter into the real handler."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from mediaflow.stack import LocalStack
from tests.integration.jobs import emails_about, run_upload
from tests.videos import padded_to

pytestmark = pytest.mark.integration


def _post(api: str, path: str, body: Any) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(f"{api}{path}", data=data, headers={"content-type": "application/json"}, timeout=30)


def test_health(api: str) -> None:
    response = requests.get(f"{api}/health", timeout=10)
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_presigned_post_uploads_and_starts_a_job(api: str, stack: LocalStack, samples: dict[str, Path]) -> None:
    response = _post(api, "/uploads", {"filename": "holiday photo é.jpg", "contentType": "image/jpeg"})
    assert response.status_code == 200
    target = response.json()
    assert target["key"].startswith("uploads/") and target["key"].endswith("/holiday photo é.jpg")
    policy = json.loads(base64.b64decode(target["fields"]["policy"]))
    assert ["content-length-range", 1, target["maxBytes"]] in policy["conditions"]
    assert {"Content-Type": "image/jpeg"} in policy["conditions"]

    files = {"file": ("photo.jpg", samples["coffee.jpg"].read_bytes(), "image/jpeg")}
    uploaded = requests.post(target["url"], data=target["fields"], files=files, timeout=30)
    assert uploaded.status_code in (200, 201, 204)
    execution = stack.wait_for_execution(target["key"], timeout=60)
    assert execution["status"] == "SUCCEEDED"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"contentType": "image/jpeg"}, "filename"),
        ({"filename": "../", "contentType": "image/jpeg"}, "filename"),
        ({"filename": "notes.txt", "contentType": "text/plain"}, "contentType"),
        ([1, 2], "JSON object"),
        (b"{not json", "not valid JSON"),
        ({"filename": ["a"], "contentType": "image/jpeg"}, "filename"),
        ({"filename": "a.jpg", "contentType": "image/jpeg\r\nX-Evil: 1"}, "contentType"),
        ({"filename": "a.jpg", "contentType": 7}, "contentType"),
        (b"[" * 30_000 + b"]" * 30_000, "not valid JSON"),  # nested deeper than a parser recurses
    ],
)
def test_bad_upload_requests_are_400(api: str, body: Any, message: str) -> None:
    response = _post(api, "/uploads", body)
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_jobs_are_listed_newest_first_with_pagination(api: str, stack: LocalStack, samples: dict[str, Path]) -> None:
    first = run_upload(stack, samples["rocket.jpg"].read_bytes() + b"page-1", "uploads/page-1.jpg")
    second = run_upload(stack, samples["rocket.jpg"].read_bytes() + b"page-2", "uploads/page-2.jpg")

    page = requests.get(f"{api}/jobs", params={"limit": 1}, timeout=10).json()
    assert [job["jobId"] for job in page["jobs"]] == [second.job["jobId"]]
    assert page["nextToken"]
    following = requests.get(f"{api}/jobs", params={"limit": 1, "nextToken": page["nextToken"]}, timeout=10).json()
    assert [job["jobId"] for job in following["jobs"]] == [first.job["jobId"]]
    everything = requests.get(f"{api}/jobs", params={"limit": 50}, timeout=10).json()["jobs"]
    started = [job["startedAt"] for job in everything]
    assert started == sorted(started, reverse=True)


WRONG_SHAPE_TOKEN = base64.urlsafe_b64encode(json.dumps({"jobId": {"S": "x"}, "evil": 1}).encode()).decode()


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 51}, {"limit": "x"}, {"nextToken": "garbage!"}, {"nextToken": WRONG_SHAPE_TOKEN}],
)
def test_bad_list_parameters_are_400(api: str, params: dict[str, Any]) -> None:
    assert requests.get(f"{api}/jobs", params=params, timeout=10).status_code == 400


def test_job_details(api: str, stack: LocalStack, samples: dict[str, Path]) -> None:
    run = run_upload(stack, samples["astronaut-portrait-exif6.jpg"].read_bytes() + b"api", "uploads/api.jpg")
    job = requests.get(f"{api}/jobs/{run.job['jobId']}", timeout=30).json()

    assert job["status"] == "SUCCEEDED" and job["key"] == "uploads/api.jpg" and job["consoleUrl"] is None
    names = [state["name"] for state in job["states"]]
    assert names[:4] == ["DescribeUpload", "RecordJob", "Validate", "Route"]
    assert all(state["status"] == "succeeded" and state["enteredAt"] for state in job["states"])
    assert {node["name"] for node in job["graph"]["nodes"]} >= {"ProcessImage", "TransformImage", "JobFailed"}
    assert len(job["renditions"]) == 2
    image = requests.get(job["renditions"][0]["url"], timeout=10)
    assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"
    assert job["results"]["labels"][0]["label"] == "person"
    assert job["results"]["framesWithDetections"][0]["detections"][0]["box"]["width"] > 0


def test_failed_job_details_explain_the_error(api: str, stack: LocalStack) -> None:
    run = run_upload(stack, b"plain text", "uploads/readme.jpg")
    job = requests.get(f"{api}/jobs/{run.job['jobId']}", timeout=30).json()

    assert job["failure"]["error"] == "UnsupportedMediaType"
    assert "(extension .jpg) is text" in job["failure"]["message"]
    assert "not an image or video" in job["failure"]["reason"]
    validate = next(state for state in job["states"] if state["name"] == "Validate")
    assert validate["status"] == "failed" and validate["error"] == "UnsupportedMediaType"


def test_unknown_job_is_404(api: str) -> None:
    response = requests.get(f"{api}/jobs/does-not-exist", timeout=10)
    assert response.status_code == 404 and "does-not-exist" in response.json()["message"]


def test_an_awkward_key_is_decoded_exactly_once_on_the_way_to_the_email_and_the_page(
    api: str, stack: LocalStack, samples: dict[str, Path]
) -> None:
    """S3 URL-encodes the key in its event (`+` for spaces, `%2B` for `+`, `%23` for `#`);
    DescribeUpload decodes it once and everything downstream shows the name as uploaded."""
    key = "uploads/vacances d'été + amis #1.jpg"
    run = run_upload(stack, samples["rocket.jpg"].read_bytes() + b"awkward", key)
    assert run.status == "SUCCEEDED", run.execution
    sent = json.loads(run.execution["input"])["detail"]["object"]["key"]
    assert sent == "uploads/vacances+d%27%C3%A9t%C3%A9+%2B+amis+%231.jpg", "the event carries it encoded, as S3 does"

    assert run.job["key"] == key
    (email,) = emails_about(stack, run.job["jobId"])
    assert f"File: {key}\n" in email.get_content()
    page = requests.get(f"{api}/jobs/{run.job['jobId']}", timeout=30).json()
    assert page["key"] == key
    listed = requests.get(f"{api}/jobs", params={"limit": 50}, timeout=30).json()["jobs"]
    assert [job["key"] for job in listed if job["jobId"] == run.job["jobId"]] == [key]
    results = json.loads(requests.get(page["results"]["resultsUrl"], timeout=30).content)
    assert results["source"]["key"] == key


MIB = 1024 * 1024


def test_a_multipart_upload_completes_only_with_every_part_and_starts_one_job(
    api: str, stack: LocalStack, samples: dict[str, Path]
) -> None:
    data = padded_to(samples["astronaut-pan.mp4"].read_bytes(), 40 * MIB)  # three 16 MiB parts, the last short
    started = _post(
        api, "/uploads/multipart", {"filename": "long walk.mp4", "contentType": "video/mp4", "size": len(data)}
    )
    assert started.status_code == 200, started.text
    upload = started.json()
    assert (upload["partSize"], upload["partCount"]) == (16 * MIB, 3)
    assert upload["key"].startswith("uploads/") and upload["key"].endswith("/long walk.mp4")
    ids = {"key": upload["key"], "uploadId": upload["uploadId"]}

    urls = _post(api, "/uploads/multipart/parts", {**ids, "partNumbers": [1, 2, 3]}).json()["urls"]
    for number in (3, 1):  # out of order, and part 2 not yet
        part = data[(number - 1) * 16 * MIB : number * 16 * MIB]
        assert requests.put(urls[str(number)], data=part, timeout=60).status_code == 200
    early = _post(api, "/uploads/multipart/complete", {**ids, "partCount": 3})
    assert early.status_code == 400 and "part(s) 2 of 3 have not arrived" in early.json()["message"]
    assert stack.executions_for(upload["key"]) == [], "nothing exists, so nothing started"

    assert requests.put(urls["2"], data=data[16 * MIB : 32 * MIB], timeout=60).status_code == 200
    done = _post(api, "/uploads/multipart/complete", {**ids, "partCount": 3})
    assert done.status_code == 200, done.text
    assert stack.client("s3").get_object(Bucket=stack.bucket, Key=upload["key"])["Body"].read() == data
    execution = stack.wait_for_execution(upload["key"], timeout=90)
    assert execution["status"] == "SUCCEEDED"
    (job,) = [j for j in stack.jobs() if j["key"] == upload["key"]]
    assert int(job["size"]) == len(data) and job["etag"].endswith("-3"), "S3's multipart ETag: the parts' count"


def test_an_abandoned_multipart_upload_is_aborted(api: str, stack: LocalStack) -> None:
    upload = _post(api, "/uploads/multipart", {"filename": "gone.mp4", "contentType": "video/mp4", "size": 99 * MIB})
    ids = {"key": upload.json()["key"], "uploadId": upload.json()["uploadId"]}
    assert _post(api, "/uploads/multipart/abort", ids).json() == {"key": ids["key"], "aborted": True}
    open_uploads = stack.client("s3").list_multipart_uploads(Bucket=stack.bucket).get("Uploads", [])
    assert ids["uploadId"] not in [u["UploadId"] for u in open_uploads]
    again = _post(api, "/uploads/multipart/complete", {**ids, "partCount": 1})
    assert again.status_code == 400 and "NoSuchUpload" in again.json()["message"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/uploads/multipart", {"filename": "a.mp4", "contentType": "video/mp4"}, "size"),
        ("/uploads/multipart", {"filename": "a.mp4", "contentType": "video/mp4", "size": 0}, "size"),
        ("/uploads/multipart", {"filename": "a.jpg", "contentType": "image/jpeg", "size": 10**12}, "image limit"),
        ("/uploads/multipart", {"filename": "a.mp4", "contentType": "video/mp4", "size": 10**13}, "video limit"),
        (
            "/uploads/multipart/parts",
            {"key": "outputs/x/results.json", "uploadId": "u", "partNumbers": [1]},
            "not an upload",
        ),
        (
            "/uploads/multipart/parts",
            {"key": "uploads/a.mp4", "uploadId": "u", "partNumbers": list(range(1, 102))},
            "partNumbers",
        ),
        ("/uploads/multipart/parts", {"key": "uploads/a.mp4", "uploadId": "u", "partNumbers": [0]}, "partNumbers"),
        ("/uploads/multipart/complete", {"key": "uploads/../x", "uploadId": "u", "partCount": 1}, "not an upload"),
        ("/uploads/multipart/abort", {"key": "uploads/a.mp4"}, "uploadId"),
    ],
)
def test_bad_multipart_requests_are_400(api: str, path: str, body: Any, message: str) -> None:
    response = _post(api, path, body)
    assert response.status_code == 400 and message in response.json()["message"], response.text
