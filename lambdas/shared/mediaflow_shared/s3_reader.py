"""A read-only, seekable file over S3 ranged GETs, so a video is never downloaded whole.

PyAV (FFmpeg) opens it like a local file: it reads the header, seeks to an MP4's moov atom
wherever it is (even at the end), and reads only the packets it decodes. Reads go to S3 in
blocks of `block_size` bytes; the last `max_blocks` blocks are kept (memory stays bounded by
their product whatever the video's size). Every GET carries the event's ETag (IfMatch), so an
object overwritten mid-read fails as UploadChanged instead of mixing two files.
`bytes_fetched` counts what came over the network, for the logs and the benchmarks.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from typing import TYPE_CHECKING

from mediaflow_shared.storage import read_upload

if TYPE_CHECKING:
    from mediaflow_shared.contract.job import Job

BLOCK_SIZE = 1024 * 1024
MAX_BLOCKS = 8  # 8 MiB of read-ahead and cache at most


class S3RangeReader(io.RawIOBase):
    def __init__(self, job: Job, block_size: int = BLOCK_SIZE, max_blocks: int = MAX_BLOCKS) -> None:
        super().__init__()
        self.job = job
        self.size = int(job["size"])
        self.block_size = block_size
        self.max_blocks = max_blocks
        self.position = 0
        self.bytes_fetched = 0
        self.requests = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()  # block number -> bytes, least recent first

    # -- io.RawIOBase ---------------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        wanted = min(len(buffer), self.size - self.position)
        if wanted <= 0:
            return 0
        written = 0
        while written < wanted:
            number, offset = divmod(self.position, self.block_size)
            block = self._block(number)
            piece = block[offset : offset + wanted - written]
            if not piece:
                break
            buffer[written : written + len(piece)] = piece
            written += len(piece)
            self.position += len(piece)
        return written

    # -- blocks ---------------------------------------------------------------------------------

    @property
    def cached_bytes(self) -> int:
        return sum(len(block) for block in self._blocks.values())

    def _block(self, number: int) -> bytes:
        if number in self._blocks:
            self._blocks.move_to_end(number)
            return self._blocks[number]
        start = number * self.block_size
        end = min(self.size, start + self.block_size) - 1
        data = read_upload(self.job, byte_range=f"bytes={start}-{end}")
        self.bytes_fetched += len(data)
        self.requests += 1
        self._blocks[number] = data
        while len(self._blocks) > self.max_blocks:
            self._blocks.popitem(last=False)
        return data
