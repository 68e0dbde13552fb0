"""One-line error messages: every command, the app and the predictor report failures as one line."""
from __future__ import annotations


def first_line(e: BaseException, limit: int = 160) -> str:
    """The first non-empty line of `str(e)` (the exception's class name when it has no text), cut to `limit`."""
    text = next((line.strip() for line in str(e).splitlines() if line.strip()), "")
    return (text or e.__class__.__name__)[:limit]
