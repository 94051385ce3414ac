"""Files a reader may open at any moment: written whole or not at all.

The report, the downloads and the command's JSON output all go through `atomic_write`: the new
bytes go to a temporary file beside the target (same filesystem), then one rename replaces the
target, so a reader, a browser or a crash in between only ever sees the old file or the new one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: Path, data: bytes | str, *, mode: int = 0o644) -> None:
    """Replace `path` with `data` (text is written as UTF-8) in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    temp: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".part-{path.name}.", suffix=".tmp", delete=False
        ) as handle:
            temp = Path(handle.name)
            handle.write(payload)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        if temp is not None:
            temp.unlink(missing_ok=True)
        raise
