"""(a), (a2), (s), (s2) the limits: the model without HTTP, in a child process.

(a) and (a2) run the model as every benchmarked server's shared embedder does
(servers/minilm.py: transformers, padded batches); (s) and (s2) run the generated server's
own model code (its predictor, packed forward included: runtime/packed.py), so that a
server whose model code is faster than the shared embedder is still measured against the
best its own code reaches without HTTP.

Two workloads: ``same``, batches of the sentences a cell sends, repeated; ``real``, the
corpus (corpus.py) in batches of MAX_BATCH, either in arrival order (``arrival``) or sorted
by length in tokens first (``sorted``: the least padding any batching can reach), or each
N arrivals sorted (``depthN``: what grouping N inputs in flight can reach; depth.py).

The child side runs as ``python -m benchmarks.serving.limits REPLICAS [PACKAGE]`` (see
``Limit``; PACKAGE: the generated server's, importable from PYTHONPATH).
"""

from __future__ import annotations

import importlib
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from . import MAX_BATCH, ROOT, SENTENCES, corpus
from .servers import thread_env


def limit_batch(size: int) -> list[str]:
    """MAX_BATCH sentences made by repeating the ``size`` sentences a cell's requests carry."""
    texts = SENTENCES[:size]
    return (texts * (MAX_BATCH // len(texts) + 1))[:MAX_BATCH]


def corpus_batches(order: str, count_tokens: Any) -> list[list[str]]:
    """The corpus in batches: of MAX_BATCH in arrival order (``arrival``) or sorted by tokens
    first (``sorted``); ``depthN``: each N arrivals sorted and cut into batches of
    min(MAX_BATCH, N // 2), the best grouping a server with N inputs in flight and two
    model workers sharing them can reach (``depth32``: MAX_BATCH in flight)."""
    texts = list(corpus.sentences())
    if order == "arrival":
        return [texts[i : i + MAX_BATCH] for i in range(0, len(texts), MAX_BATCH)]
    if order == "sorted":
        depth, size = len(texts), MAX_BATCH  # one window: the whole corpus
    elif re.fullmatch(r"depth[1-9][0-9]*", order):
        depth = int(order.removeprefix("depth"))
        size = min(MAX_BATCH, max(1, depth // 2))
    else:
        raise ValueError(f"unknown order {order!r}: arrival, sorted or depthN")
    lengths = dict(zip(texts, count_tokens(texts), strict=True))
    batches: list[list[str]] = []
    for start in range(0, len(texts), depth):
        window = sorted(texts[start : start + depth], key=lengths.__getitem__)
        batches += [window[i : i + size] for i in range(0, len(window), size)]
    # The batches run in a shuffled order: a measurement shorter than the whole corpus (a
    # few seconds cover a third of it) then sees every length, as the servers do, instead
    # of only the short sentences at the head of each sorted window.
    random.Random(corpus.SEED).shuffle(batches)
    return batches


class ServerModel:
    """The generated server's predictor, used as an embedder (``embed``, ``tokenizer``)."""

    def __init__(self, predictor: Any) -> None:
        self.predictor = predictor
        self.tokenizer = predictor.tokenizer

    def embed(self, texts: list[str]) -> list[Any]:
        out: list[Any] = []
        for start in range(0, len(texts), MAX_BATCH):
            out.extend(self.predictor.predict(texts[start : start + MAX_BATCH]))
        return out


def server_models(package: str, replicas: int) -> list[ServerModel]:
    """The generated server's model loaded as the server loads it (its settings' defaults
    for the device: $BENCH_DEVICE, cpu unless set), with one replica per worker as its
    batcher makes them."""
    load = importlib.import_module(f"{package}.runtime.load")
    settings = importlib.import_module(f"{package}.settings").Settings(
        model_dir=os.environ["BENCH_MODEL_DIR"],
        device=os.environ.get("BENCH_DEVICE", "cpu"),
        torch_threads=int(os.environ["BENCH_TORCH_THREADS"]) * replicas,
        model_workers=replicas,
    )
    predictor = load.load_predictor(settings)
    copies = [predictor] + [predictor.replica() for _ in range(replicas - 1)]
    return [ServerModel(copy) for copy in copies]


def limit_worker(replicas: int, package: str | None = None) -> int:
    """The child side of ``Limit``: ``replicas`` models, each driven by its own thread (the
    shared embedder, or ``package``'s own model code).

    Torch, OMP and MKL threads come from the environment the parent set. Reads one
    ``[workload, order, size, seconds]`` JSON line per measurement from stdin, answers
    sentences/s on stdout.
    """
    from minilm import Embedder

    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything else printed goes to stderr, not into the protocol
    embedders: list[Any] = (
        server_models(package, replicas) if package else [Embedder() for _ in range(replicas)]
    )
    for embedder in embedders:
        embedder.embed(limit_batch(len(SENTENCES)))
    print("ready", file=protocol, flush=True)
    tokenizer = embedders[0].tokenizer

    def count_tokens(texts: list[str]) -> list[int]:
        return [len(ids) for ids in tokenizer(texts)["input_ids"]]

    real: dict[str, list[list[str]]] = {}
    for line in sys.stdin:
        workload, order, size, seconds = json.loads(line)
        if workload == "real" and order not in real:
            real[order] = corpus_batches(order, count_tokens)
        batches = real[order] if workload == "real" else [limit_batch(size)]
        rate = run_replicas(embedders, batches, seconds)
        print(rate, file=protocol, flush=True)
    return 0


def run_replicas(embedders: list[Any], batches: list[list[str]], seconds: float) -> float:
    """Each embedder embeds ``batches`` in turn, over and over, in its own thread (each from
    its own place in the list); total sentences/s."""
    counts = [0] * len(embedders)
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(embedders) + 1)

    def run(i: int) -> None:
        try:
            at = i * len(batches) // len(embedders)
            embedders[i].embed(batches[at])  # warm up, outside the timing
            barrier.wait()
            stop_at = time.perf_counter() + seconds
            while time.perf_counter() < stop_at:
                at = (at + 1) % len(batches)
                embedders[i].embed(batches[at])
                counts[i] += len(batches[at])
        except BaseException as exc:  # reported by the caller, not lost in the thread
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(embedders))]
    for thread in threads:
        thread.start()
    with suppress(threading.BrokenBarrierError):  # a failed replica: raised below
        barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return sum(counts) / (time.perf_counter() - start)


class Limit:
    """all-MiniLM-L6-v2 without HTTP, batches of MAX_BATCH: the ceiling for one layout.

    ``replicas`` models in one process, each run by its own Python thread with
    ``torch_threads`` torch threads. (a) is one replica with every thread; (a2) is N
    replicas of threads // N. The model runs in a child process started with OMP/MKL/torch
    threads set, so the two layouts never share thread pools or settings.
    """

    def __init__(
        self,
        model_dir: str,
        replicas: int,
        torch_threads: int,
        log: Path,
        server: tuple[Path, str] | None = None,
    ) -> None:
        """``server``: (the generated project's src folder, its package) to run the server's
        own model code instead of the shared embedder."""
        env = {
            **os.environ,
            **thread_env(torch_threads),
            "BENCH_MODEL_DIR": model_dir,
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
        command = [sys.executable, "-m", "benchmarks.serving.limits", str(replicas)]
        if server:
            env["PYTHONPATH"] = os.pathsep.join([str(server[0]), env.get("PYTHONPATH", "")])
            command.append(server[1])
        with log.open("w") as err:
            self.proc = subprocess.Popen(
                command,
                env=env,
                cwd=ROOT,  # where `benchmarks` imports from
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        self.log = log
        if self._read() != "ready":
            raise RuntimeError(f"the limit worker did not start; see {log}")

    def _read(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the limit worker exited with {self.proc.wait()}; see {self.log}")
        return line.strip()

    def measure(
        self, size: int, seconds: float, workload: str = "same", order: str = "arrival"
    ) -> float:
        """Sentences/s for ``seconds``: on batches of the ``size`` sentences a cell sends,
        repeated (``same``), or on the corpus in ``order`` (``real``)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps([workload, order, size, seconds]) + "\n")
        self.proc.stdin.flush()
        return float(self._read())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


if __name__ == "__main__":
    raise SystemExit(limit_worker(int(sys.argv[1]), *sys.argv[2:3]))
