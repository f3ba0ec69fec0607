"""The benchmark's own instruments measure what they claim."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

from benchmarks import run
from benchmarks.run import BusyCores, PeakMemory, Result, busy_cores, render

CHILD_BYTES = 300 * 1024**2


def test_peak_memory_counts_a_child_process_started_inside_the_block():
    hold = f"b = bytearray({CHILD_BYTES}); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(2)"
    with PeakMemory(interval=0.05, tree_interval=0.2) as memory:
        child = subprocess.Popen([sys.executable, "-c", hold])
        child.wait(timeout=30)
        time.sleep(0.1)
    assert memory.peak >= CHILD_BYTES  # this process alone holds far less


def test_busy_cores_counts_all_but_idle_and_iowait():
    # user nice system idle iowait irq softirq steal guest guest_nice, two readings 1 s apart
    before = [1000, 0, 200, 5000, 100, 0, 10, 0, 300, 0]
    after = [1100, 0, 240, 5040, 110, 0, 10, 0, 350, 0]  # 140 busy of 190 (guest is in user)
    assert busy_cores(before, after, 2) == 2 * 140 / 190


def test_busy_cores_sees_a_child_process_keep_a_core_busy():
    spin = "import time\nend = time.time() + 1.5\nwhile time.time() < end: pass"
    with BusyCores() as busy:
        subprocess.run([sys.executable, "-c", spin], check=True, timeout=30)
    # other processes on the machine can only add to it
    assert busy.mean is not None and busy.mean >= 0.8


def test_the_history_ends_with_daily_snapshots_covering_every_window_a_day_reads(tmp_path):
    from benchmarks.run import _daily_dumps
    from pipeline.reports import trends

    lead, days = _daily_dumps(tmp_path, 3)
    assert len(lead) == trends.RECENT + trends.BASELINE and len(days) == 3
    names = [path.name for path in lead + days]
    # none replaces the large snapshot the history starts with
    assert len(set(names)) == len(names) and "hf-trending-2026-01-01.txt" not in names


def test_the_benchmark_compacts_before_a_sundays_dump_as_the_schedule_does(home):
    from datetime import date

    from benchmarks.run import _compact_on_sundays
    from pipeline import warehouse
    from tests.conftest import listing, load_dump, sample_papers

    papers = sample_papers()
    saturday, sunday = (
        home.root / "hf-trending-2026-02-07.txt",
        home.root / "hf-trending-2026-02-08.txt",
    )
    assert _compact_on_sundays(sunday, home) is None  # no warehouse yet
    with warehouse.session(home) as con:
        load_dump(con, "day1", listing(papers[:100]), date(2026, 2, 6))
        load_dump(con, "day2", listing(papers[50:150]), date(2026, 2, 7))
    assert _compact_on_sundays(saturday, home) is None
    assert _compact_on_sundays(sunday, home) > 0
    with warehouse.session(home, read_only=True) as con:
        assert warehouse.file_counts(con, "listings") == (1, 0)


def test_a_history_copy_shares_parquet_files_and_copies_the_rest(tmp_path):
    base = tmp_path / "base"
    (base / "warehouse" / "data").mkdir(parents=True)
    (base / "warehouse" / "data" / "part.parquet").write_bytes(b"PAR1")
    (base / "warehouse" / "catalog.sqlite").write_bytes(b"catalog")
    copy = tmp_path / "copy"
    shutil.copytree(base, copy, copy_function=run._link_parquet)
    assert (copy / "warehouse" / "data" / "part.parquet").stat().st_ino == (
        base / "warehouse" / "data" / "part.parquet"
    ).stat().st_ino
    (copy / "warehouse" / "catalog.sqlite").write_bytes(b"changed")
    assert (base / "warehouse" / "catalog.sqlite").read_bytes() == b"catalog"


def test_a_ratio_shows_enough_digits_to_agree_with_its_verdict():
    ratio = Result("backfill", "speed-up", 1603.8 / 1084.1, "x", "> 1.5x on 2", False)
    row = render([ratio]).splitlines()[-1]
    assert "| 1.48 x |" in row and "| NO |" in row
    seconds = Result("backfill", "1 run at a time", 1603.84, "s")
    assert "| 1,603.8 s |" in render([seconds])
