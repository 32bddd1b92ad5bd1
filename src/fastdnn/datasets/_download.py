"""Fetch a URL into memory, refusing partial or oversized answers.

Data sets are small enough (at most ~30 MB per file) to hold in memory, and
holding them there means a failed or interrupted download never touches the
disk: only data that has passed its checksum reaches the cache.
"""

import os
import urllib.request

_CHUNK = 1 << 20


def timeout_seconds():
    """Per-request network timeout; FASTDNN_DOWNLOAD_TIMEOUT overrides 30 s."""
    return float(os.environ.get("FASTDNN_DOWNLOAD_TIMEOUT", "30"))


def fetch(url, max_bytes):
    """The body of `url` as bytes.

    Raises OSError when the server is unreachable or answers with an error,
    when the body is shorter than its Content-Length (a truncated transfer), or
    when it exceeds `max_bytes`.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "fastdnn"})
    with urllib.request.urlopen(request, timeout=timeout_seconds()) as response:
        declared = response.headers.get("Content-Length")
        declared = int(declared) if declared and declared.isdigit() else None
        if declared is not None and declared > max_bytes:
            raise OSError(f"{url}: server declares {declared} bytes, more than the {max_bytes} expected")
        parts, received = [], 0
        while True:
            part = response.read(_CHUNK)
            if not part:
                break
            received += len(part)
            if received > max_bytes:
                raise OSError(f"{url}: more than the {max_bytes} bytes expected")
            parts.append(part)
    if declared is not None and received != declared:
        raise OSError(f"{url}: truncated download ({received} of {declared} bytes)")
    return b"".join(parts)
