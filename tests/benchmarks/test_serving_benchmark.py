"""The serving benchmark's own parts: its HTTP load client and its report.

The benchmark itself is not run here (it needs minutes and the opt-in .venv-bench); these
tests check that its closed-loop client counts real responses from a real server, chunked
ones included, and errors as errors.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import serving  # noqa: E402


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    app = FastAPI()

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
    async def fail() -> dict[str, str]:
        raise RuntimeError("boom")

    chosen = serving.free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=chosen, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    yield chosen
    server.should_exit = True
    thread.join(10)


def test_the_client_reads_plain_and_chunked_responses(port: int) -> None:
    async def both() -> tuple[tuple[int, bytes], tuple[int, bytes]]:
        conn = serving.Connection(port)
        plain = await conn.post("/echo", b'{"inputs": ["a", "b"]}')
        chunked = await conn.post("/chunked", b"{}")  # same keep-alive connection
        conn.close()
        return plain, chunked

    plain, chunked = asyncio.run(both())
    assert plain == (200, b'{"n":2}')
    assert chunked == (200, b'{"a":1}')


def test_closed_loop_counts_answers_and_errors(port: int) -> None:
    latencies, errors = asyncio.run(
        serving.closed_loop(port, "/echo", b'{"inputs": ["a"]}', concurrency=4, seconds=0.3)
    )
    assert len(latencies) > 4 and errors == 0
    latencies, errors = asyncio.run(serving.closed_loop(port, "/fail", b"{}", 2, 0.2))
    assert not latencies and errors > 0


def test_report_ratios() -> None:
    cells = [
        serving.Cell("generated", 1, 32, 90.0, 10, 20, 100, 0),
        serving.Cell("bentoml", 1, 32, 45.0, 30, 60, 50, 0),
    ]
    table = serving.table(cells, {(1, 32): (100.0, 120.0)})  # (a) one model, (a2) replicas
    assert "| generated | 1 | 32 | 90 | 0.90 | 0.75 |" in table
    assert "| bentoml | 1 | 32 | 45 | 0.45 | 0.38 |" in table
    assert "| 1 | 32 | - | 2.00x | - | - | - |" in serving.summary(cells)


def test_the_limit_batch_repeats_the_sentences_a_cell_sends() -> None:
    one = serving.limit_batch(1)
    assert one == [serving.SENTENCES[0]] * serving.MAX_BATCH
    sixteen = serving.limit_batch(16)
    assert sixteen == serving.SENTENCES[:16] * (serving.MAX_BATCH // 16)


def test_each_cell_reports_its_median_round_and_paired_ratios() -> None:
    rounds = [serving.Cell("generated", 1, 32, rate, 10, 20, 100, 1) for rate in (90, 50, 70)]
    cell = serving.median_cell(rounds)
    assert cell.sentences_per_s == 70 and cell.errors == 3  # errors of every round
    cells = [cell, serving.Cell("litserve", 1, 32, 50.0, 10, 20, 50, 0)]
    # within each round: 90/45 = 2.0, 50/50 = 1.0, 70/50 = 1.4 -> median 1.4
    paired = {("generated", 1, 32): [90.0, 50.0, 70.0], ("litserve", 1, 32): [45.0, 50.0, 50.0]}
    assert "| 1 | 32 | - | - | - | 1.40x | - |" in serving.summary(cells, paired)
