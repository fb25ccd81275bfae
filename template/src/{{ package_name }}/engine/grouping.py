"""Which queued inputs form the next batch: similar lengths, a token budget, oldest first.

A batch runs at the length of its longest input: a 12-token sentence batched with a
60-token one costs 60 tokens of compute. On a CPU the model's time is close to linear in
those padded tokens and a call's fixed cost is small, so padding is the waste to cut; on a
GPU a call's fixed cost dominates and larger batches win (hence the budget is a setting).

The policy, for a batch of at most ``size`` inputs and ``max_tokens`` padded tokens
(inputs x the longest):

1. The oldest queued input is always in the batch: nothing waits for more than the
   batches that serve the inputs queued before it (no starvation).
2. The rest are the inputs closest to it in length, among the oldest
   ``WINDOW_BATCHES x size`` queued, added one at a time while the batch stays within the
   budget. Identical lengths give arrival order (today's first-in first-out); a lone input
   is a batch of one. A drained queue of mixed lengths is thus split into sub-batches of
   similar length, one per worker or one after the other.
3. Once the oldest input has waited ``OVERDUE_SHARE`` of its request's time budget (the
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
    queued: list[QueuedItem], size: int, max_tokens: float, now: float
) -> list[QueuedItem]:
    """The next batch from ``queued`` (compatible inputs, oldest first), in arrival order."""
    if overdue(queued[0], now):
        return _arrival_order(queued, size, max_tokens)
    window = queued[: WINDOW_BATCHES * size]
    ranked = sorted(window, key=lambda item: item.length)  # stable: ties keep arrival order
    low = high = next(i for i, item in enumerate(ranked) if item is queued[0])
    anchor = ranked[low].length
    while high - low + 1 < size:
        grown = high - low + 2
        steps = []  # (distance in length from the oldest input, side), within the budget
        if high + 1 < len(ranked) and grown * ranked[high + 1].length <= max_tokens:
            steps.append((ranked[high + 1].length - anchor, 1))
        if low > 0 and grown * ranked[high].length <= max_tokens:
            steps.append((anchor - ranked[low - 1].length, 0))  # a tie goes to the shorter
        if not steps:
            break
        if min(steps)[1]:
            high += 1
        else:
            low -= 1
    chosen = {id(item) for item in ranked[low : high + 1]}
    return [item for item in window if id(item) in chosen]


def _arrival_order(queued: list[QueuedItem], size: int, max_tokens: float) -> list[QueuedItem]:
    batch, longest = queued[:1], queued[0].length
    for item in queued[1:size]:
        longest = max(longest, item.length)
        if (len(batch) + 1) * longest > max_tokens:
            break
        batch.append(item)
    return batch
