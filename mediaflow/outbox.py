"""Deliver SNS email-protocol notifications as RFC 5322 messages.

moto never sends email. Each publish to a topic with an email subscriber becomes a .eml
file in the outbox folder (openable by any mail client) and, if configured, is relayed to
an SMTP server, so a developer sees exactly what the operator would receive.

Delivery is once per message: a notification the outbox already holds (same topic, recipient,
subject, body and attributes) is not written again. A redriven execution (mediaflow/recovery.py)
may publish again a notification that went out just before a crash; its text names the job and
the execution, so only that repeat is identical. Such a repeat is of one of the last messages,
so the outbox remembers the digests of its last `REMEMBERED` (from earlier runs too), not of
every message it ever wrote: a runtime left up for a week would hold every job's.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import smtplib
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

SENDER = "MediaFlow <no-reply@sns.amazonaws.com>"
REMEMBERED = 1000  # messages whose repeat is recognised: far more than the jobs a crash interrupts


class EmailOutbox:
    def __init__(self, folder: Path, smtp: tuple[str, int] | None = None) -> None:
        self.folder = folder
        self.smtp = smtp
        self._lock = threading.Lock()
        self._count = 0
        folder.mkdir(parents=True, exist_ok=True)
        # The digests of the newest messages this outbox holds, oldest first (file names sort by time).
        newest = sorted(path.name for path in folder.glob("*.eml"))[-REMEMBERED:]
        self._delivered: OrderedDict[str, None] = OrderedDict.fromkeys(name[:-4].rsplit("-", 1)[-1] for name in newest)

    def deliver(
        self, topic_arn: str, endpoint: str, subject: str | None, message: str, attributes: dict[str, Any]
    ) -> Path:
        email = EmailMessage()
        email["From"] = SENDER
        email["To"] = endpoint
        email["Subject"] = subject or "AWS Notification Message"
        email["Date"] = format_datetime(datetime.now(UTC))
        email["Message-ID"] = make_msgid(domain="mediaflow.local")
        email["X-MediaFlow-Topic"] = topic_arn
        for name, attribute in sorted(attributes.items()):
            value = (
                attribute.get("Value", attribute.get("StringValue", "")) if isinstance(attribute, dict) else attribute
            )
            email[f"X-MediaFlow-Attribute-{name}"] = str(value)
        email.set_content(message)
        identity = json.dumps([topic_arn, endpoint, subject, message, attributes], sort_keys=True, default=str)
        digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
        with self._lock:
            held = next(self.folder.glob(f"*-{digest}.eml"), None) if digest in self._delivered else None
            if held is not None:
                return held
            self._count += 1
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            slug = re.sub(r"[^A-Za-z0-9]+", "-", email["Subject"]).strip("-")[:60]
            path = self.folder / f"{stamp}-{self._count:04d}-{slug}-{digest}.eml"
            partial = self.folder / f".{path.name}.partial"
            partial.write_bytes(bytes(email))
            os.replace(partial, path)  # a crash leaves the whole message or none
            self._delivered[digest] = None
            if len(self._delivered) > REMEMBERED:
                self._delivered.popitem(last=False)
        if self.smtp:
            with smtplib.SMTP(*self.smtp, timeout=10) as server:
                server.send_message(email)
        return path

    def read(self, about: str | None = None) -> list[tuple[Path, EmailMessage]]:
        """The delivered messages, oldest first; with `about` (a job id), those whose body names it."""
        found = []
        for path in sorted(self.folder.glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            if about is None or about in message.get_content():
                found.append((path, message))
        return found
