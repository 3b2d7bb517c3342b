"""The email outbox: each notification written once, and a bounded memory of what it wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediaflow import outbox
from mediaflow.outbox import EmailOutbox

TOPIC = "arn:aws:sns:us-east-1:123456789012:mediaflow-notifications"


def _send(box: EmailOutbox, number: int) -> Path:
    return box.deliver(TOPIC, "ops@example.com", "MediaFlow job SUCCEEDED", f"job {number}", {"kind": "image"})


def test_a_repeated_notification_is_written_once_across_a_restart(tmp_path: Path) -> None:
    box = EmailOutbox(tmp_path)
    first = _send(box, 1)
    assert _send(box, 1) == first
    assert _send(EmailOutbox(tmp_path), 1) == first, "a redrive after a restart repeats the last message"
    assert len(list(tmp_path.glob("*.eml"))) == 1
    assert "job 1" in first.read_text()


def test_the_outbox_remembers_its_last_messages_not_every_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A runtime left up for a week held every message's digest and path (~0.7 KB per job)."""
    monkeypatch.setattr(outbox, "REMEMBERED", 5)
    box = EmailOutbox(tmp_path)
    paths = [_send(box, number) for number in range(12)]
    assert len(box._delivered) == 5
    assert _send(box, 11) == paths[11], "a repeat of a recent message is still recognised"
    restarted = EmailOutbox(tmp_path)
    assert len(restarted._delivered) == 5
    assert _send(restarted, 10) == paths[10]
    assert len(list(tmp_path.glob("*.eml"))) == 12


def test_a_message_deleted_from_the_outbox_is_written_again(tmp_path: Path) -> None:
    box = EmailOutbox(tmp_path)
    _send(box, 1).unlink()
    again = _send(box, 1)
    assert again.exists() and "job 1" in again.read_text()
