"""The benchmark's own instruments measure what they claim."""

from __future__ import annotations

import subprocess
import sys
import time

from benchmarks.run import PeakMemory

CHILD_BYTES = 300 * 1024**2


def test_peak_memory_counts_a_child_process_started_inside_the_block():
    hold = f"b = bytearray({CHILD_BYTES}); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(2)"
    with PeakMemory(interval=0.05, tree_interval=0.2) as memory:
        child = subprocess.Popen([sys.executable, "-c", hold])
        child.wait(timeout=30)
        time.sleep(0.1)
    assert memory.peak >= CHILD_BYTES  # this process alone holds far less


def test_the_history_ends_with_daily_snapshots_covering_every_window_a_day_reads(tmp_path):
    from benchmarks.run import _daily_dumps
    from pipeline.reports import trends

    lead, days = _daily_dumps(tmp_path, 3)
    assert len(lead) == trends.RECENT + trends.BASELINE and len(days) == 3
    names = [path.name for path in lead + days]
    # none replaces the large snapshot the history starts with
    assert len(set(names)) == len(names) and "hf-trending-2026-01-01.txt" not in names
