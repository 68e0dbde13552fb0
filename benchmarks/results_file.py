"""How a benchmark leaves its figures: one JSON file under benchmarks/results/, the way every script writes it."""
from __future__ import annotations

import json
from pathlib import Path


def write_results(path: Path, result, show: bool = False) -> None:
    """Write `result` to `path` (indented JSON, one newline at the end), print it when `show`, then say where."""
    text = json.dumps(result, indent=1) + "\n"
    if show:
        print(text, end="")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
