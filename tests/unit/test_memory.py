"""The bot's garbage-collection settling (bot/memory.py)."""

from __future__ import annotations

import gc
import time

from bot import memory


def test_settle_takes_start_up_objects_out_of_full_collections() -> None:
    gc.collect()
    started = time.perf_counter()
    gc.collect()
    whole = time.perf_counter() - started
    try:
        memory.settle()
        assert gc.get_freeze_count() > 10_000  # the modules, classes and functions loaded
        started = time.perf_counter()
        gc.collect()
        settled = time.perf_counter() - started
        assert settled < whole / 2, (settled, whole)
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
