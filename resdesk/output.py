"""Printing data for people and for programs (``--json``)."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any, Iterable


def _default(value: Any):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(document: Any) -> None:
    """Print one JSON document on stdout and nothing else."""
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False, default=_default)
    sys.stdout.write("\n")


def print_json_stream(items: Iterable[Any]) -> None:
    """Print one JSON array on stdout, item by item as they come, so a long listing is never held whole."""
    count = 0
    sys.stdout.write("[")
    for item in items:
        sys.stdout.write(",\n" if count else "\n")
        sys.stdout.write(json.dumps(item, indent=2, ensure_ascii=False, default=_default))
        count += 1
    sys.stdout.write("\n]\n" if count else "]\n")


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """Print a plain aligned table for people."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(str(cell)))
    line = "  ".join(h.ljust(widths[i]) for i, h in enumerate(headers))
    print(line.rstrip())
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(widths[i]) for i, c in enumerate(row)).rstrip())
