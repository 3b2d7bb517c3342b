"""Typed access to the environment variables template.yaml gives each function."""

from __future__ import annotations

import os


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"environment variable {name} is not set (see template.yaml)")
    return value


def env_int(name: str, default: int | None = None) -> int:
    return int(env_str(name, None if default is None else str(default)))


def env_bool(name: str, default: bool = False) -> bool:
    return env_str(name, "true" if default else "false").strip().lower() == "true"


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]
