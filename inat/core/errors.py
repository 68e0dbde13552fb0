"""One-line error messages: every command, the app and the predictor report failures as one line."""
from __future__ import annotations


def first_line(e: BaseException, limit: int | None = None) -> str:
    """The first non-empty line of `str(e)` (the exception's class name when it has no text), cut to `limit`
    characters when one is given (for messages from other libraries; our own sentences stay whole)."""
    text = next((line.strip() for line in str(e).splitlines() if line.strip()), "")
    return (text or e.__class__.__name__)[:limit]
