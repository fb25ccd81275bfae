"""Which queued inputs form the next batch: similar lengths, a token budget, oldest first.

A batch runs at the length of its longest input: a 12-token sentence batched with a
60-token one costs 60 tokens of compute, more with attention. On a CPU the model's time
grows at least linearly with those padded tokens and a call's fixed cost is small, so
padding is the waste to cut (32 real sentences in arrival order, 63 tokens padded, took 2x
the time of 32 of about one length, 40 tokens); on a GPU a call's fixed cost dominates and
larger batches win. Hence both bounds are settings with per-hardware defaults.

The policy, for a batch of at most ``size`` inputs, ``max_tokens`` padded tokens (inputs x
the longest) and ``max_padding`` share of padding:

1. The oldest queued input is always in the batch: nothing waits for more than the
   batches that serve the inputs queued before it (no starvation).
2. The rest are the inputs closest to it in length, among the oldest
   ``WINDOW_BATCHES x size`` queued, added one at a time while the batch stays within
   both bounds. Identical lengths give arrival order (today's first-in first-out); a lone input
   is a batch of one. A drained queue of mixed lengths is thus split into sub-batches of
   similar length, one per worker or one after the other.
3. A padding-free model (``padding_free``: the packed forward, runtime/packed.py) costs its
   real tokens whatever lengths a batch mixes: its batches are bounded by real tokens, and
   not by padding.
4. Once the oldest input has waited ``OVERDUE_SHARE`` of its request's time budget (the
   server is overloaded), batches are taken in arrival order again, so requests finish in
   the order their deadlines come.
"""

from __future__ import annotations

from .requests import QueuedItem

#: Look this many batches deep into the queue for inputs of similar length.
WINDOW_BATCHES = 4
#: Past this share of its deadline, the oldest input's batch is taken in arrival order.
OVERDUE_SHARE = 0.5


def padded_tokens(items: list[QueuedItem]) -> int:
    """What a batch costs the model: every input padded to the longest one."""
    return len(items) * max(item.length for item in items)


def overdue(item: QueuedItem, now: float) -> bool:
    budget = item.request.deadline - item.enqueued
    return now - item.enqueued > OVERDUE_SHARE * budget


def next_batch(
    queued: list[QueuedItem],
    size: int,
    max_tokens: float,
    now: float,
    max_padding: float = 1.0,
    padding_free: bool = False,
) -> list[QueuedItem]:
    """The next batch from ``queued`` (compatible inputs, oldest first), in arrival order."""
    if overdue(queued[0], now):
        return _arrival_order(queued, size, max_tokens, padding_free)
    window = queued[: WINDOW_BATCHES * size]
    ranked = sorted(window, key=lambda item: item.length)  # stable: ties keep arrival order
    low = high = next(i for i, item in enumerate(ranked) if item is queued[0])
    anchor = total = ranked[low].length

    def fits(count: int, longest: int, tokens: int) -> bool:
        if padding_free:
            return tokens <= max_tokens
        padded = count * longest
        return padded <= max_tokens and padded - tokens <= max_padding * padded

    while high - low + 1 < size:
        grown = high - low + 2
        steps = []  # (distance in length from the oldest input, side), within both bounds
        if high + 1 < len(ranked):
            longer = ranked[high + 1].length
            if fits(grown, longer, total + longer):
                steps.append((longer - anchor, 1))
        if low > 0:
            shorter = ranked[low - 1].length
            if fits(grown, ranked[high].length, total + shorter):
                steps.append((anchor - shorter, 0))  # a tie goes to the shorter
        if not steps:
            break
        if min(steps)[1]:
            high += 1
            total += ranked[high].length
        else:
            low -= 1
            total += ranked[low].length
    chosen = {id(item) for item in ranked[low : high + 1]}
    return [item for item in window if id(item) in chosen]


def _arrival_order(
    queued: list[QueuedItem], size: int, max_tokens: float, padding_free: bool
) -> list[QueuedItem]:
    batch, longest, tokens = queued[:1], queued[0].length, queued[0].length
    for item in queued[1:size]:
        longest, tokens = max(longest, item.length), tokens + item.length
        if (tokens if padding_free else (len(batch) + 1) * longest) > max_tokens:
            break
        batch.append(item)
    return batch
