"""The serving benchmark's own parts: its wrk load driver and its report.

The benchmark itself is not run here (it needs minutes and the opt-in .venv-bench); these
tests check that the wrk driver counts real responses from a real server, chunked ones
included, and errors as errors.
"""

from __future__ import annotations

import itertools
import math
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.serving import (
    MAX_BATCH,
    SENTENCES,
    ceiling,
    corpus,
    depth,
    limits,
    load,
    report,
    rotation,
    servers,
)
from benchmarks.serving.servers import free_port

ROOT = Path(__file__).resolve().parents[2]

RECORDED: list[str] = []  # the first input of every request /record received

needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None,
    reason="wrk is not installed (scripts/setup.sh installs it with apt-get: apt-get install wrk)",
)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, StreamingResponse

    app = FastAPI()
    calls = itertools.count()

    @app.post("/record")
    async def record(body: dict[str, list[str]]) -> dict[str, int]:
        RECORDED.append(body["inputs"][0])
        return {"n": len(body["inputs"])}

    @app.post("/echo")
    async def echo(body: dict[str, list[str]]) -> dict[str, int]:
        return {"n": len(body["inputs"])}

    @app.post("/chunked")
    async def chunked() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for part in (b'{"a":', b"1}"):
                yield part

        return StreamingResponse(parts(), media_type="application/json")

    @app.post("/fail")
    async def fail() -> JSONResponse:
        return JSONResponse({"detail": "boom"}, status_code=500)

    @app.post("/sometimes")
    async def sometimes(body: dict[str, list[str]]) -> JSONResponse:
        if next(calls) % 3 == 0:  # every third request fails
            return JSONResponse({"detail": "boom"}, status_code=500)
        return JSONResponse({"n": len(body["inputs"])})

    chosen = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=chosen, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    yield chosen
    server.should_exit = True
    thread.join(10)


def script(tmp_path: Path, path: str, body: bytes = b'{"inputs": ["a"]}') -> Path:
    return load.script_for(tmp_path, path, body)


@needs_wrk
def test_wrk_reads_plain_and_chunked_responses(port: int, tmp_path: Path) -> None:
    for path in ("/echo", "/chunked"):
        result = load.run_wrk(port, script(tmp_path, path), concurrency=1, seconds=0.3)
        assert result.ok > 2 and result.errors == 0, (path, result)


@needs_wrk
def test_closed_loop_counts_answers_and_errors(port: int, tmp_path: Path) -> None:
    answered = load.run_wrk(port, script(tmp_path, "/echo"), concurrency=4, seconds=0.3)
    assert answered.ok > 4 and answered.errors == 0
    failed = load.run_wrk(port, script(tmp_path, "/fail", b"{}"), 2, 0.2)
    assert failed.ok == 0 and failed.errors > 0
    assert failed.requests_per_s == 0 and math.isnan(failed.p50_ms)


@needs_wrk
def test_wrk_for_a_second_against_a_server_that_fails_a_third(port: int, tmp_path: Path) -> None:
    body = b'{"inputs": ["a", "b"]}'
    result = load.run_wrk(port, script(tmp_path, "/sometimes", body), concurrency=4, seconds=1)
    assert 0.9 < result.seconds < 2
    assert result.requests_per_s > 0 and result.ok > 10
    assert 0 < result.p50_ms <= result.p99_ms < 1000
    assert result.socket_errors == 0
    # every third answer is a 500: counted as errors, not as throughput
    assert result.status_errors == pytest.approx(result.responses / 3, abs=4)
    cell = load.measure("x", port, script(tmp_path, "/sometimes", body), 2, 4, 0.5, 0.2)
    assert cell.requests > 0 and cell.errors > 0
    assert cell.sentences_per_s == pytest.approx(2 * cell.requests / 0.5, rel=0.5)


@needs_wrk
def test_a_steady_script_counts_every_answer_by_the_second(port: int, tmp_path: Path) -> None:
    body = b'{"inputs": ["a", "b"]}'
    steady = load.script_for(tmp_path, "/sometimes", body, steady=True)
    # 6 s: whatever fraction of a second it starts at, at least 3 whole seconds follow
    # the 1 s ramp a fast server is given, within the run
    result = load.run_wrk(port, steady, concurrency=4, seconds=6)
    # each success counted once, in the seconds the run spans; the 500s are not counted
    assert sum(result.per_second.values()) == pytest.approx(result.ok, abs=4)
    assert result.status_errors > 0
    assert min(result.per_second) >= math.floor(result.started)
    assert max(result.per_second) <= result.started + result.seconds + 1
    # a server of constant speed: the steady rate is the whole run's, within noise
    assert result.steady_per_s == pytest.approx(result.requests_per_s, rel=0.5)
    cell = load.measure("x", port, steady, 2, 4, 6, 0.2)
    assert cell.steady and cell.sentences_per_s == pytest.approx(cell.whole_run_per_s, rel=0.5)
    short = load.measure("x", port, steady, 2, 4, 1.5, 0.2)  # no whole second after the ramp
    assert not short.steady and short.sentences_per_s == short.whole_run_per_s
    assert "| x | 2 | 4 | " in report.table([short], {(2, 4): (1.0,)})
    assert f"| {short.sentences_per_s:.0f}* |" in report.table([short], {(2, 4): (1.0,)})
    plain = load.run_wrk(port, script(tmp_path, "/echo"), concurrency=1, seconds=0.3)
    assert plain.per_second == {} and plain.steady_per_s is None  # the ceiling's scripts


def test_the_steady_rate_leaves_out_the_ramp_and_the_last_part_second() -> None:
    counts = {1000: 2, 1001: 1, 1002: 5, 1010: 3} | {s: 10 for s in range(1003, 1010)}
    result = load.WrkResult(
        responses=sum(counts.values()),
        seconds=10.0,
        status_errors=0,
        socket_errors=0,
        p50_ms=900.0,
        p99_ms=2500.0,  # the ramp: until 1002.8, so the seconds from 1003
        started=1000.3,
        per_second=counts,
    )
    assert result.steady_per_s == 10.0  # 1003-1009; 1010 ends after the run
    assert result.requests_per_s == pytest.approx(sum(counts.values()) / 10.0)
    too_short = replace(result, seconds=5.0)  # 1003, 1004 only
    assert too_short.steady_per_s is None
    assert replace(result, per_second={}).steady_per_s is None


@needs_wrk
def test_a_closed_port_is_an_error_naming_the_address(tmp_path: Path) -> None:
    closed = free_port()
    with pytest.raises(RuntimeError, match=f"unable to connect to 127.0.0.1:{closed}"):
        load.run_wrk(closed, script(tmp_path, "/echo"), concurrency=1, seconds=0.3)


def test_the_lua_script_carries_path_and_body_verbatim() -> None:
    body = b'{"inputs": ["odd ]] and ]=] brackets"]}'
    text = load.lua_script("/v1/predict", body)
    assert 'wrk.method = "POST"' in text
    assert "wrk.path = [==[/v1/predict]==]" in text
    assert 'wrk.body = [==[{"inputs": ["odd ]] and ]=] brackets"]}]==]' in text
    assert "done = function" in text


def test_a_missing_wrk_is_one_line_naming_the_setup_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.serving", "--duration", "1"],
        cwd=ROOT,
        env={"PATH": str(Path(sys.executable).parent)},  # python, and no wrk
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: wrk is not installed: run `bash scripts/setup.sh --bench` (apt-get install wrk)"
    ]


def test_report_ratios() -> None:
    cells = [
        report.Cell("generated", 1, 32, 90.0, 10, 20, 100, 0),
        report.Cell("bentoml", 1, 32, 45.0, 30, 60, 50, 0),
    ]
    table = report.table(cells, {(1, 32): (100.0, 120.0)})  # (a) one model, (a2) replicas
    assert "| generated | 1 | 32 | 90 | 0.90 | 0.75 |" in table
    assert "| bentoml | 1 | 32 | 45 | 0.45 | 0.38 |" in table
    assert "| 1 | 32 | - | 2.00x | - | - | - |" in report.summary(cells)


def test_the_best_limit_includes_the_servers_own_model_code() -> None:
    """(s) and (s2), the generated server's own model code, count in 'x best limit', and
    the report names every limit it was given."""
    cells = [report.Cell("generated", 1, 32, 90.0, 10, 20, 100, 0)]
    measured = {(1, 32): (60.0, 80.0, 100.0, 90.0)}  # (a), (a2), (s), (s2)
    assert "| generated | 1 | 32 | 90 | 1.50 | 0.90 |" in report.table(cells, measured)
    text = report.report(cells, measured, {}, threads=2, replicas=2, n_rounds=1, duration=1.0)
    assert "(a) 60, (a2) 80, (s) 100, (s2) 90 sentences/s" in text


def test_the_limit_batch_repeats_the_sentences_a_cell_sends() -> None:
    one = limits.limit_batch(1)
    assert one == [SENTENCES[0]] * MAX_BATCH
    sixteen = limits.limit_batch(16)
    assert sixteen == SENTENCES[:16] * (MAX_BATCH // 16)


def test_each_cell_reports_its_median_round_and_paired_ratios() -> None:
    rounds = [report.Cell("generated", 1, 32, rate, 10, 20, 100, 1) for rate in (90, 50, 70)]
    cell = report.median_cell(rounds)
    assert cell.sentences_per_s == 70 and cell.errors == 3  # errors of every round
    cells = [cell, report.Cell("litserve", 1, 32, 50.0, 10, 20, 50, 0)]
    # within each round: 90/45 = 2.0, 50/50 = 1.0, 70/50 = 1.4 -> median 1.4
    paired = {("generated", 1, 32): [90.0, 50.0, 70.0], ("litserve", 1, 32): [45.0, 50.0, 50.0]}
    assert "| 1 | 32 | - | - | - | 1.40x | - |" in report.summary(cells, paired)


@needs_wrk
def test_a_cycling_script_sends_every_body_in_turn(port: int, tmp_path: Path) -> None:
    bodies = [f'{{"inputs": ["body {i} ]] ]=]"]}}'.encode() for i in range(5)]
    RECORDED.clear()
    path = load.script_for(tmp_path, "/record", bodies)
    result = load.run_wrk(port, path, concurrency=2, seconds=0.5)
    assert result.ok > 10 and result.errors == 0
    assert set(RECORDED) == {f"body {i} ]] ]=]" for i in range(5)}  # all of them, verbatim


def test_the_corpus_is_the_same_every_time_and_spans_its_lengths() -> None:
    texts = corpus.sentences()
    assert len(texts) == corpus.N_SENTENCES and len(set(texts)) == len(texts)
    words = [len(t.split()) for t in texts]
    assert min(words) == corpus.MIN_WORDS and max(words) == corpus.MAX_WORDS
    assert corpus.sentences.__wrapped__() == texts  # deterministic, not just cached
    sixteen = corpus.requests(16)
    assert all(len(r) == 16 for r in sixteen) and sixteen[1][0] == texts[16]
    assert "words: min 8," in corpus.describe()


def test_the_sorted_limit_batches_are_the_corpus_by_length() -> None:
    def count(texts: list[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    ordered = limits.corpus_batches("sorted", count)
    arrival = limits.corpus_batches("arrival", count)
    flat = [t for batch in ordered for t in batch]
    assert sorted(flat) == sorted(corpus.sentences())
    assert sum(len(batch) != MAX_BATCH for batch in ordered) <= 1  # the last one is short
    by_length = sorted(ordered, key=lambda batch: (min(count(batch)), max(count(batch))))
    flat_by_length = [n for batch in by_length for n in count(batch)]
    assert flat_by_length == sorted(flat_by_length)  # each batch is a run of the sorted corpus
    assert arrival[0] == list(corpus.sentences()[:MAX_BATCH])


def test_the_sorted_limit_sees_every_length_in_its_first_seconds() -> None:
    """A limit measured for a few seconds covers only the first batches: those must hold
    short and long sentences alike, not only the shortest (the head of the sorted list)."""

    def count(texts: list[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    ordered = limits.corpus_batches("sorted", count)
    third = [n for batch in ordered[: len(ordered) // 3] for n in count(batch)]
    whole = count(list(corpus.sentences()))
    assert abs(sum(third) / len(third) - sum(whole) / len(whole)) < 3  # words
    assert max(third) > 60 and min(third) < 12


def test_depth_batches_group_only_what_is_in_flight_at_once() -> None:
    """``depthN``: each N arrivals sorted and cut for two workers; nothing crosses a window."""

    def count(texts: list[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    texts = list(corpus.sentences())
    window = {t: i // 512 for i, t in enumerate(texts)}  # which 512 arrivals each belongs to
    deep = limits.corpus_batches("depth512", count)
    assert all(len(batch) <= MAX_BATCH for batch in deep)
    assert sorted(t for batch in deep for t in batch) == sorted(texts)
    assert all(len({window[t] for t in batch}) == 1 for batch in deep)  # one window each
    assert sorted(texts[:512], key=lambda t: len(t.split()))[:MAX_BATCH] in deep
    shallow = limits.corpus_batches(f"depth{MAX_BATCH}", count)
    assert all(len(batch) == MAX_BATCH // 2 for batch in shallow[:-1])
    assert all(len({texts.index(t) // MAX_BATCH for t in batch}) == 1 for batch in shallow)

    def padding(batches: list[list[str]]) -> int:
        return sum(max(count(b)) * len(b) - sum(count(b)) for b in batches)

    arrival, ordered = (limits.corpus_batches(o, count) for o in ("arrival", "sorted"))
    assert padding(ordered) < padding(deep) < padding(shallow) < padding(arrival)


def test_an_unknown_order_is_refused_by_name() -> None:
    for order in ("window", "depth", "depth0", "32"):
        with pytest.raises(ValueError, match=f"unknown order '{order}'"):
            limits.corpus_batches(order, lambda texts: [1] * len(texts))


def test_each_round_starts_with_the_next_system() -> None:
    names = ["a", "b", "c"]
    assert [rotation(names, r) for r in range(4)] == [
        ["a", "b", "c"],
        ["b", "c", "a"],
        ["c", "a", "b"],
        ["a", "b", "c"],
    ]


def test_the_depth_table_divides_each_round_by_that_rounds_sorted_limit() -> None:
    rates = {"arrival": [50.0, 30.0], "depth32": [80.0, 60.0], "sorted": [100.0, 60.0]}
    text = depth.table(["arrival", "depth32", "sorted"], rates)
    assert "| arrival | 40 | 0.50 | 0.50, 0.50 |" in text
    assert "| depth32 | 70 | 0.90 | 0.80, 1.00 |" in text
    assert "| sorted | 80 | 1.00 | 1.00, 1.00 |" in text


def test_depth_refuses_depths_that_are_not_numbers() -> None:
    with pytest.raises(SystemExit):
        depth.parse_args(["--depths", "32,deep"])


def test_the_profile_charges_a_stack_to_its_nearest_known_layer() -> None:
    engine = "run (a/threading.py:1);_run (pkg/engine/batcher.py:9);notify (threading.py:3)"
    assert ceiling.layer_of(engine) == "threading (worker threads)"
    assert ceiling.layer_of("run (uvicorn/x.py:1);send (pkg/serve/metrics.py:2)").startswith(
        "serve/"
    )
    assert ceiling.layer_of("main (x.py:1)") == "other"


def test_settle_waits_while_the_server_still_works_and_no_longer() -> None:
    """A real process: busy for about a second (as a server finishing what a load run
    left), then idle; ``settle`` returns once it is idle."""
    busy = "import time\nend = time.time() + 1.0\nwhile time.time() < end: pass\ntime.sleep(30)"
    proc = subprocess.Popen([sys.executable, "-c", busy])
    try:
        time.sleep(0.1)
        waited = servers.Server(proc.pid).settle(window_s=0.2, timeout_s=10)
        assert 0.6 < waited < 5, waited
        assert servers.Server(proc.pid).settle(window_s=0.2, timeout_s=10) < 0.5  # idle now
    finally:
        proc.kill()
        proc.wait()
