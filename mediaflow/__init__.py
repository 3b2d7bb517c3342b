"""MediaFlow's local runtime: the SAM application from template.yaml on one machine, no AWS, no Docker."""

__version__ = "0.1.0"
