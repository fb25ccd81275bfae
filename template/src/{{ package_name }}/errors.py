"""The error types shared across areas, and the one way a command reports them.

- :class:`InputTooLongError`: raised by the runtime, mapped to 422 by the engine and the HTTP
  layer (here so that neither imports the other).
- :class:`DeployError`: a deploy, image or manifest step failed; its message says what went
  wrong and how to fix it. Each target's errors derive from it.
- :func:`fail`: how every command reports an error it expected: one red line on stderr and
  an exit code, never a traceback.
"""

from __future__ import annotations


class InputTooLongError(ValueError):
    """An input has more tokens than the model accepts; maps to HTTP 422."""

    def __init__(self, index: int, tokens: int, limit: int) -> None:
        super().__init__(
            f"input {index} has {tokens} tokens; the limit is {limit} "
            "(shorten it or split it into several inputs)"
        )
        self.index, self.tokens, self.limit = index, tokens, limit


class DeployError(RuntimeError):
    """A deploy step failed; the message says what went wrong and how to fix it."""


class ConfirmationDeclinedError(DeployError):
    """The user answered no to a billable or destructive action."""


def fail(error: BaseException | str, code: int = 1) -> BaseException:
    """Print ``error: <message>`` in red on stderr; return the exit to raise."""
    import typer

    typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)
