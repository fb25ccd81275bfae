"""The real-length workload: 2,000 sentences of 8-64 words, generated deterministically.

Identical sentences hide padding: every batch has one length. Real text does not; a batch
runs at the length of its longest input. This corpus is generated, not shipped, so its
source is this file: ``LENGTHS`` words per sentence (uniform over 8..64, seed ``SEED``),
each word drawn from ``WORDS`` (common English words and the benchmark's own sentences'
words, so the tokenizer splits them as it splits ordinary prose: about 1.1 tokens a word).
``describe()`` gives the distribution in words and in all-MiniLM-L6-v2 tokens; the report
prints it beside the results.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from functools import cache

from . import SENTENCES

SEED = 16
N_SENTENCES = 2000
MIN_WORDS, MAX_WORDS = 8, 64

_COMMON = """
time year people way day man thing woman life child world school state family student
group country problem hand part place case week company system program question work
government number night point home water room mother area money story fact month lot
right study book eye job word business issue side kind head house service friend father
power hour game line end member law car city community name president team minute idea
kid body information back parent face others level office door health person art war
history party result change morning reason research girl guy moment air teacher force
education good new first last long great little own other old big high different small
large next early young important few public bad same able be have do say go get make
know think take see come want look use find give tell ask seem feel try leave call keep
let begin show hear play run move like live believe hold bring happen write provide sit
stand lose pay meet include continue set learn lead understand watch follow stop create
speak read allow add spend grow open walk win offer remember love consider appear buy
wait serve die send expect build stay fall cut reach kill remain suggest raise pass sell
require report decide pull and but or because if when while although after before since
until the a an this that these those my your his her its our their in on at by for with
about against between into through during without under around among quickly slowly
""".split()  # noqa: SIM905 (a word list reads best as text)
WORDS = sorted({*_COMMON, *(w.strip(".,").lower() for s in SENTENCES for w in s.split())})


@cache
def sentences() -> tuple[str, ...]:
    """The corpus, always the same ``N_SENTENCES`` sentences in the same order."""
    rng = random.Random(SEED)
    out = []
    for _ in range(N_SENTENCES):
        words = [rng.choice(WORDS) for _ in range(rng.randint(MIN_WORDS, MAX_WORDS))]
        out.append(" ".join(words).capitalize() + ".")
    return tuple(out)


def requests(size: int) -> list[list[str]]:
    """The corpus cut into requests of ``size`` sentences, in order (the last may be short:
    it is dropped so that every request carries ``size``)."""
    texts = sentences()
    return [list(texts[i : i + size]) for i in range(0, len(texts) - size + 1, size)]


def describe(count_tokens: Callable[[list[str]], list[int]] | None = None) -> str:
    """One line: the length distribution in words (and tokens, given a counter)."""
    texts = list(sentences())

    def spread(values: list[int], unit: str) -> str:
        q = statistics.quantiles(values, n=10)
        return (
            f"{unit}: min {min(values)}, p10 {q[0]:.0f}, median {statistics.median(values):.0f}, "
            f"p90 {q[-1]:.0f}, max {max(values)}"
        )

    parts = [spread([len(t.split()) for t in texts], "words")]
    if count_tokens is not None:
        parts.append(spread(count_tokens(texts), "tokens"))
    return f"{len(texts)} sentences (seed {SEED}); " + "; ".join(parts)
