"""What the status API accepts: JSON schemas, checked with Powertools' validation (fastjsonschema)."""

from __future__ import annotations

# A MIME type as RFC 6838 spells it (no parameters, spaces or control characters), image or video only;
# "$" is left out of the name characters: fastjsonschema rewrites every "$" in a pattern to \Z.
MIME_TYPE_PATTERN = r"^(image|video)/[A-Za-z0-9][A-Za-z0-9!#&^_.+-]{0,126}$"

UPLOAD_REQUEST = {
    "type": "object",
    "properties": {
        "filename": {"type": "string", "minLength": 1, "maxLength": 512},
        "contentType": {"type": "string", "pattern": MIME_TYPE_PATTERN},
    },
    "required": ["filename", "contentType"],
}

# POST /jobs/{id}/reprocess: template parameters this attempt runs with instead of the stack's.
# The patterns and ranges are the template's own (tests/unit/test_contract.py compares them).
REPROCESS_REQUEST = {
    "type": "object",
    "properties": {
        "overrides": {
            "type": "object",
            "properties": {
                "RenditionWidths": {"type": "string", "pattern": "^[0-9]+(,[0-9]+)*$"},
                "RenditionFormats": {"type": "string", "pattern": "^(jpeg|webp)(,(jpeg|webp))*$"},
                "ImageFilters": {
                    "type": "string",
                    "pattern": "^((grayscale|blur|sharpen)(,(grayscale|blur|sharpen))*)?$",
                },
                "JpegQuality": {"type": "string", "pattern": "^[0-9]+$"},
                "WebpQuality": {"type": "string", "pattern": "^[0-9]+$"},
                "WebpMethod": {"type": "string", "pattern": "^[0-9]+$"},
            },
            "additionalProperties": False,
        }
    },
    "additionalProperties": False,
}

# The number parameters' MinValue and MaxValue in the template.
REPROCESS_RANGES = {"JpegQuality": (1, 95), "WebpQuality": (1, 100), "WebpMethod": (0, 6)}

# The ByStartedAt index's LastEvaluatedKey, as GET /jobs hands it out (base64 JSON).
NEXT_TOKEN = {
    "type": "object",
    "properties": {
        "jobId": {"type": "string", "minLength": 1, "maxLength": 128},
        "recordType": {"type": "string", "maxLength": 16},
        "startedAt": {"type": "string", "maxLength": 64},
    },
    "required": ["jobId", "recordType", "startedAt"],
    "additionalProperties": False,
}

# POST /uploads/multipart: a large upload starts; its size picks the part size.
MULTIPART_START = {
    "type": "object",
    "properties": {
        "filename": {"type": "string", "minLength": 1, "maxLength": 512},
        "contentType": {"type": "string", "pattern": MIME_TYPE_PATTERN},
        "size": {"type": "integer", "minimum": 1},
    },
    "required": ["filename", "contentType", "size"],
}

_UPLOAD_ID = {"type": "string", "minLength": 1, "maxLength": 1024}
_KEY = {"type": "string", "minLength": 1, "maxLength": 1024}

# POST /uploads/multipart/parts: presigned URLs for some of its parts.
MULTIPART_PARTS = {
    "type": "object",
    "properties": {
        "key": _KEY,
        "uploadId": _UPLOAD_ID,
        "partNumbers": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {"type": "integer", "minimum": 1, "maximum": 10000},
        },
    },
    "required": ["key", "uploadId", "partNumbers"],
    "additionalProperties": False,
}

# POST /uploads/multipart/complete: every part 1..partCount has arrived.
MULTIPART_COMPLETE = {
    "type": "object",
    "properties": {
        "key": _KEY,
        "uploadId": _UPLOAD_ID,
        "partCount": {"type": "integer", "minimum": 1, "maximum": 10000},
    },
    "required": ["key", "uploadId", "partCount"],
    "additionalProperties": False,
}

# POST /uploads/multipart/abort: give up; S3 drops the parts.
MULTIPART_ABORT = {
    "type": "object",
    "properties": {"key": _KEY, "uploadId": _UPLOAD_ID},
    "required": ["key", "uploadId"],
    "additionalProperties": False,
}
