"""(b) What most people write first: FastAPI, the model called once per request."""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI
from minilm import Embedder
from pydantic import BaseModel

app = FastAPI()
embedder = Embedder()


class Request(BaseModel):
    inputs: list[str]


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/embed")
def embed(request: Request) -> dict[str, list[list[float]]]:
    return {"embeddings": embedder.embed(request.inputs)}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
