"""(d) LitServe with batching: requests are batched, then run MAX_BATCH sentences per pass.

BENCH_WORKERS sets `workers_per_device` (1 for 'litserve', 2 for 'litserve-2w'): that many
inference processes, each loading its own model and batching on its own. LitServe also
starts one HTTP server process per inference worker by default. Torch threads per worker
come from BENCH_TORCH_THREADS (see minilm.py).
"""

import os
import sys
from typing import Any

import litserve as ls
from minilm import MAX_BATCH, Embedder

WAIT_S = 0.005
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))


class EmbedAPI(ls.LitAPI):
    def setup(self, device: str) -> None:
        self.embedder = Embedder()

    def decode_request(self, request):  # type: ignore[no-untyped-def]  # LitServe reads the annotation
        return list(request["inputs"])

    def batch(self, inputs: list[list[str]]) -> list[list[str]]:
        return inputs

    def predict(self, batch: list[list[str]]) -> list[list[list[float]]]:
        flat = [text for texts in batch for text in texts]
        vectors = self.embedder.embed(flat)
        out, start = [], 0
        for texts in batch:
            out.append(vectors[start : start + len(texts)])
            start += len(texts)
        return out

    def unbatch(self, output: list[Any]) -> list[Any]:
        return output

    def encode_response(self, output: list[list[float]]) -> dict[str, Any]:
        return {"embeddings": output}


if __name__ == "__main__":
    try:
        api = EmbedAPI(max_batch_size=MAX_BATCH, batch_timeout=WAIT_S)
        server = ls.LitServer(api, accelerator="cpu", workers_per_device=WORKERS, timeout=60)
    except TypeError:  # older LitServe: batching options on the server
        server = ls.LitServer(
            EmbedAPI(),
            accelerator="cpu",
            max_batch_size=MAX_BATCH,
            batch_timeout=WAIT_S,
            workers_per_device=WORKERS,
            timeout=60,
        )
    server.run(host="127.0.0.1", port=int(sys.argv[1]), generate_client_file=False)
