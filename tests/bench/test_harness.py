"""The bench's own arithmetic: verdicts, ratios, percentiles, the Procfile it runs and the wrk
output it reads. (The figures themselves are measured by `make bench`, not by the suite.)"""

from __future__ import annotations

import pytest

from tests.bench.loadgen import _ms, assert_loopback, percentile
from tests.bench.matching import read_marks, stage_medians
from tests.bench.report import Report, Row, Target
from tests.bench.stack import procfile_command


def test_row_misses_when_any_target_is_missed():
    # given a value under its bound but a ratio over its own
    row = Row(
        "s",
        "f",
        800.0,
        "req/s",
        reference_value=4000.0,
        targets=[Target(">=", 500), Target(">=", 0.3, on="ratio")],
    )

    # then
    assert row.ratio == pytest.approx(0.2)
    assert row.verdict == "MISS"


def test_row_without_value_is_not_applicable_and_says_why():
    # given
    report = Report("quick")

    # when
    row = report.missing("chat", "send→receive p50", "feature missing: no handler")

    # then
    assert row.verdict == "n/a"
    assert "not measured (feature missing: no handler)" in report.table()


def test_percentile_is_nearest_rank():
    samples = [float(n) for n in range(1, 101)]

    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 99) == 99.0
    assert percentile([], 99) is None


def test_wrk_latency_units_are_read_as_milliseconds():
    assert _ms("694.00us") == pytest.approx(0.694)
    assert _ms("12.47ms") == pytest.approx(12.47)
    assert _ms("1.50s") == pytest.approx(1500.0)


def test_load_goes_to_loopback_only():
    assert_loopback("http://127.0.0.1:8000/")
    with pytest.raises(ValueError, match="loopback"):
        assert_loopback("http://10.0.0.5:8000/")


def test_bench_runs_the_procfile_web_line_with_its_environment():
    # when
    argv = procfile_command(
        "web", {"LAWLINE_HOST": "127.0.0.1", "LAWLINE_PORT": "4321", "WEB_CONCURRENCY": "3"}
    )

    # then
    assert argv[argv.index("-m") + 1] == "config.serve"
    assert argv[argv.index("--port") + 1] == "4321"
    assert argv[argv.index("--workers") + 1] == "3"


def test_each_figure_is_written_beside_its_value_in_the_previous_run(tmp_path):
    # given an earlier run that measured one of today's figures
    earlier = Report("quick")
    earlier.add(Row("pages", "req/s", 100.0, "req/s", targets=[Target(">=", 1000)]))
    earlier.add(Row("chat", "p50", 3.0, "ms"))
    first = earlier.write_json(tmp_path)
    first.rename(tmp_path / "bench-20260101T000000Z-quick.json")

    # when a later run measures it again, and something new
    later = Report("quick")
    later.add(Row("pages", "req/s", 3000.0, "req/s", targets=[Target(">=", 1000)]))
    later.add(Row("memory", "bytes", 10.0, "KB"))
    written = later.write_json(tmp_path)

    # then the file holds the before value of the figure measured in both
    import json

    before = json.loads(written.read_text())["before"]
    assert before == {
        "pages: req/s": {
            "value": 100.0,
            "run": "bench-20260101T000000Z-quick.json",
            "verdict": "MISS",
        }
    }


def test_stage_medians_count_only_consults_with_every_stamp(tmp_path):
    # given three server processes' stamps (the earliest stamp of a stage wins: a task
    # delivered twice starts twice, maybe on two workers) and the client's sent and received
    (tmp_path / "101.txt").write_text(
        "request 1 100.001\npublished 1 100.005\nrequest 2 200.001\npublished 2 200.004\n"
    )
    (tmp_path / "102.txt").write_text(
        "task_start 1 100.020\ntask_end 1 100.010\ntask_start 2 200.005\n"
    )
    (tmp_path / "103.txt").write_text("task_start 1 100.006\n")
    sent = {1: 100.0, 2: 200.0}
    received = {1: 100.011, 2: 200.009}

    # when
    marks = read_marks(tmp_path)
    stages = stage_medians(marks, sent, received)

    # then consult 2, with no task_end, is left out
    assert marks[1]["task_start"] == pytest.approx(100.006)
    assert stages == pytest.approx(
        {"request": 1.0, "published": 5.0, "task_start": 6.0, "task_end": 10.0, "received": 11.0},
        abs=0.01,
    )
