"""What an SNS topic remembers of the messages it published: the last few, not all (memory only).

moto keeps every message each topic ever published (its id, body, subject, parsed message
attributes and group id) in `Topic.sent_notifications`, for as long as it runs: an internal
API for tests to look at what was sent. AWS keeps no such record (a message lives on in its
subscribers' deliveries), and the runtime's own copy of each notification is its email in the
outbox. In a `mediaflow up` left running it grew by every job's NotifySuccess message, ~1 KB
per job (tracemalloc over 60 small-photo jobs: the message body and the form fields it was
parsed from, gone when the topic keeps 10), without end. A topic now keeps the last
`KEPT_PER_TOPIC` messages it published, oldest first, as moto's list holds them: enough to look
at what a run just sent.
"""

from __future__ import annotations

from typing import Any

from moto.sns import models as sns_models

KEPT_PER_TOPIC = 100

original_topic_init = sns_models.Topic.__init__


class RecentMessages(list):  # type: ignore[type-arg]
    """moto's list of sent messages (it only appends), holding the newest `KEPT_PER_TOPIC`.
    A list, not a bounded deque: whoever reads moto's internal API may slice it."""

    def append(self, message: Any) -> None:
        super().append(message)
        if len(self) > KEPT_PER_TOPIC:
            del self[0]  # a move of ~100 pointers per publish


def _topic_init(self: Any, *args: Any, **kwargs: Any) -> None:
    original_topic_init(self, *args, **kwargs)
    self.sent_notifications = RecentMessages(self.sent_notifications)


def apply() -> None:
    sns_models.Topic.__init__ = _topic_init  # type: ignore[method-assign]
