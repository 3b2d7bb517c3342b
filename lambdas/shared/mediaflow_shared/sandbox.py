"""What the Lambda sandbox a handler runs in can do."""

from __future__ import annotations

import os

MB_PER_VCPU = 1769  # Lambda allocates one vCPU per 1,769 MB of memory


def vcpus() -> int:
    """The vCPUs this sandbox's memory buys on Lambda (a thread pool sized to the host's cores
    would oversubscribe a 2 GB function's ~1.2 vCPU quota); outside Lambda, every core."""
    memory = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    if not memory:
        return os.cpu_count() or 1
    return max(1, int(memory) // MB_PER_VCPU)
