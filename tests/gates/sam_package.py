"""The template as `sam package` + the SAM transform would hand it to CloudFormation."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform

from mediaflow.template import load_template

ARTIFACT_BUCKET = "mediaflow-artifacts"


class NoManagedPolicies:
    """SAM asks for the account's managed policy ARNs only to resolve names used in Policies;
    this template uses policy templates and inline statements only."""

    def load(self) -> dict[str, str]:
        return {}


def packaged(template_path: Path) -> dict[str, Any]:
    """Swap local CodeUri/ContentUri/DefinitionUri for S3 locations, as `sam package` does."""
    template = copy.deepcopy(load_template(template_path))
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = f"s3://{ARTIFACT_BUCKET}/{logical_id}.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = f"s3://{ARTIFACT_BUCKET}/{logical_id}.zip"
        elif resource["Type"] == "AWS::Serverless::StateMachine":
            props["DefinitionUri"] = {"Bucket": ARTIFACT_BUCKET, "Key": f"{logical_id}.asl.json"}
    return template


def translated(template_path: Path) -> dict[str, Any]:
    """Run the SAM transform (aws-sam-translator, what CloudFormation runs for Transform: AWS::Serverless)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(packaged(template_path), {}, NoManagedPolicies())


def write_json(template: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(template, indent=2))
    return path
