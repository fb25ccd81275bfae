"""Deterministic, varied sample sentences for the parity gate and the benchmarks.

Real traffic is not available at export time, so the gate runs on text generated from a
fixed seed: short fragments, questions, reviews, numbers and units, other languages, code
and long multi-sentence passages (so padding, truncation and long-range attention are all
exercised). The same seed always gives the same sentences.
"""

from __future__ import annotations

import random

_SUBJECTS = [
    "The new phone",
    "My grandmother",
    "This restaurant",
    "The central bank",
    "Our team",
    "A small startup in Lyon",
    "The river",
    "Every student",
    "The committee",
    "That movie",
    "The weather service",
    "Her latest novel",
    "The old bridge",
    "Most investors",
    "The robot",
]
_VERBS = [
    "announced",
    "rejected",
    "loves",
    "explained",
    "delayed",
    "improved",
    "criticised",
    "predicted",
    "repaired",
    "ignored",
    "celebrated",
    "measured",
    "cancelled",
    "shipped",
]
_OBJECTS = [
    "the quarterly results",
    "a spicy noodle soup",
    "interest rates",
    "the final exam",
    "a new open-source library",
    "the flood warnings",
    "the ending",
    "its battery life",
    "the budget for next year",
    "a cup of green tea",
    "the train schedule",
    "customer support",
]
_TAILS = [
    "yesterday",
    "after a long meeting",
    "without any warning",
    "for the third time this year",
    "despite the protests",
    "at 7:45 pm",
    "in front of 2,000 people",
    "on Tuesday morning",
    "because nobody else would",
    "with surprising calm",
    "",
]
_FRAGMENTS = [
    "ok",
    "Thanks!",
    "food",
    "meal",
    "stocks",
    "Why?",
    "hello world",
    "N/A",
    "5 stars",
    "Not bad.",
    "terrible service",
    "???",
    "a",
    "Call me back.",
]
_REVIEWS = [
    "I absolutely loved this product, it works exactly as described and arrived early.",
    "Worst purchase ever: it broke after two days and support never answered.",
    "The hotel was fine, nothing special, but the breakfast was surprisingly good.",
    "Five stars for the pasta, one star for the 45-minute wait.",
]
_TECH = [
    "Set max_batch_size=32 and restart the pod; latency p99 dropped from 180 ms to 95 ms.",
    "def add(a, b):\n    return a + b  # returns the sum",
    "Error 503: upstream connect error or disconnect/reset before headers.",
    "The 3.5 kg package measures 40 x 30 x 12 cm and costs $129.99 (VAT incl.).",
    "SELECT name, COUNT(*) FROM orders WHERE total > 100 GROUP BY name;",
]
_OTHER_LANGUAGES = [
    "Le chat dort sur le canapé depuis ce matin.",
    "Der Zug nach München hat heute zwanzig Minuten Verspätung.",
    "¿Dónde está la estación de tren más cercana?",
    "Questo ristorante serve la migliore pizza della città.",
    "naïve café résumé façade coöperate",
]


def _statement(rng: random.Random) -> str:
    tail = rng.choice(_TAILS)
    sentence = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
    return f"{sentence} {tail}".strip() + rng.choice([".", ".", "!", "..."])


def _question(rng: random.Random) -> str:
    subject = rng.choice(_SUBJECTS)
    subject = subject[0].lower() + subject[1:]
    return f"Why {rng.choice(['did', 'has', 'would'])} {subject} " + (
        f"{rng.choice(['reject', 'explain', 'delay', 'measure'])} {rng.choice(_OBJECTS)}?"
    )


def _passage(rng: random.Random, sentences: int) -> str:
    parts = [rng.choice([_statement, _question])(rng) for _ in range(sentences)]
    parts.insert(rng.randrange(len(parts) + 1), rng.choice(_REVIEWS + _TECH))
    return " ".join(parts)


def varied_sentences(count: int, seed: int = 0) -> list[str]:
    """``count`` varied texts, the same for the same seed (fragments to long passages)."""
    rng = random.Random(seed)
    makers = [
        lambda: rng.choice(_FRAGMENTS),
        lambda: _statement(rng),
        lambda: _question(rng),
        lambda: rng.choice(_REVIEWS),
        lambda: rng.choice(_TECH),
        lambda: rng.choice(_OTHER_LANGUAGES),
        lambda: _statement(rng).upper(),
        lambda: _passage(rng, rng.randint(2, 4)),
        lambda: _passage(rng, rng.randint(6, 10)),
    ]
    return [makers[i % len(makers)]() for i in range(count)]
