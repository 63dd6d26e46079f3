"""The evaluation chart as a PNG, drawn by `chart_worker.py` in a short-lived process.

The charting library (matplotlib) never enters the bot's process: importing it costs tens
of megabytes that Python would keep for the bot's whole life. The worker is run by its
path (not as a module of our packages, which would import the whole bot), gets the chart
as JSON on its standard input and writes the PNG on its standard output."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import struct
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

WORKER = Path(__file__).with_name("chart_worker.py")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMEOUT = 30.0


async def draw(spec: dict[str, Any], timeout: float = TIMEOUT) -> bytes | None:
    """The chart's PNG, or None when it could not be drawn (logged): the text says the
    same, so a missing chart loses nothing."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
    except OSError as exc:
        log.warning("chart not drawn: %s", exc)
        return None
    try:
        out, err = await asyncio.wait_for(process.communicate(json.dumps(spec).encode("utf-8")), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        log.warning("chart not drawn within %.0f s", timeout)
        return None
    if process.returncode != 0 or not out.startswith(PNG_SIGNATURE):
        log.warning(
            "chart not drawn (exit %s): %s", process.returncode, err.decode("utf-8", "replace")[-500:]
        )
        return None
    return out


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (its IHDR chunk)."""
    if not data.startswith(PNG_SIGNATURE) or len(data) < 24:
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)
