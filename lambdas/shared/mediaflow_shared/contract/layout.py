"""Where a job's objects live in the media bucket: the one place that spells a key.

    <upload prefix><anything>                      uploads: the EventBridge rule listens here only
    <output prefix><jobId>/renditions/w<width>.<ext>
    <output prefix><jobId>/annotated/<labels>-<frame>.jpg
    <output prefix><jobId>/scenes/scene-<n>.jpg      each scene's representative frame
    <output prefix><jobId>/contact-sheet.jpg
    <output prefix><jobId>/results.json
    <work prefix><jobId>/frames/f<frame>.jpg       sampled video frames (expire after a day)
    <work prefix><jobId>/frames/segments.json      the sampling plan (the Distributed Map reads it)
    <work prefix><jobId>/frames/segment-<n>.json   a segment's frames (index, time, key, size,
                                                   signature) and its detection batches
    <work prefix><jobId>/detections/<name>.json    one per image or batch of frames

Outputs and work files sit under other prefixes than uploads, so they never re-trigger the
workflow.
"""

from __future__ import annotations

from dataclasses import dataclass

from mediaflow_shared.contract.settings import Settings, settings


@dataclass(frozen=True)
class Layout:
    upload_prefix: str
    output_prefix: str
    work_prefix: str

    @classmethod
    def from_settings(cls, current: Settings | None = None) -> Layout:
        current = current or settings()
        return cls(current.upload_prefix, current.output_prefix, current.work_prefix)

    # -- uploads ---------------------------------------------------------------------------

    def upload_key(self, folder: str, filename: str) -> str:
        return f"{self.upload_prefix}{folder}/{filename}"

    # -- outputs: what a succeeded job keeps -----------------------------------------------

    def outputs(self, job_id: str) -> str:
        return f"{self.output_prefix}{job_id}/"

    def renditions(self, job_id: str) -> str:
        return f"{self.outputs(job_id)}renditions/"

    def rendition(self, job_id: str, width: int, extension: str) -> str:
        return f"{self.renditions(job_id)}w{width}.{extension}"

    def annotated_frames(self, job_id: str) -> str:
        return f"{self.outputs(job_id)}annotated/"

    def annotated_frame(self, job_id: str, labels: list[str], frame_index: int) -> str:
        return f"{self.annotated_frames(job_id)}{'_'.join(labels)}-{frame_index:06d}.jpg"

    def scene_frames(self, job_id: str) -> str:
        return f"{self.outputs(job_id)}scenes/"

    def scene_frame(self, job_id: str, scene: int) -> str:
        return f"{self.scene_frames(job_id)}scene-{scene:04d}.jpg"

    def contact_sheet(self, job_id: str) -> str:
        return f"{self.outputs(job_id)}contact-sheet.jpg"

    def results(self, job_id: str) -> str:
        return f"{self.outputs(job_id)}results.json"

    # -- work files: intermediate, removed when the job ends -------------------------------

    def work(self, job_id: str) -> str:
        return f"{self.work_prefix}{job_id}/"

    def frame(self, job_id: str, frame_index: int) -> str:
        return f"{self.work(job_id)}frames/f{frame_index:06d}.jpg"

    def segment_plan(self, job_id: str) -> str:
        return f"{self.work(job_id)}frames/segments.json"

    def segment_manifests(self, job_id: str) -> str:
        """The prefix of the segment manifests alone (the frames beside them do not share it)."""
        return f"{self.work(job_id)}frames/segment-"

    def segment_manifest(self, job_id: str, segment: int) -> str:
        return f"{self.segment_manifests(job_id)}{segment:05d}.json"

    def detections(self, job_id: str) -> str:
        return f"{self.work(job_id)}detections/"

    def image_detections(self, job_id: str) -> str:
        return f"{self.detections(job_id)}image.json"

    def batch_detections(self, job_id: str, batch: int) -> str:
        return f"{self.detections(job_id)}batch-{batch:05d}.json"

    # -- what a job owns --------------------------------------------------------------------

    def job_prefixes(self, job_id: str) -> tuple[str, str]:
        """Everything a job writes lives under these: the failure path deletes both."""
        return self.outputs(job_id), self.work(job_id)


def layout() -> Layout:
    """The layout this function's environment configures."""
    return Layout.from_settings()
