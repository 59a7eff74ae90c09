"""Run every ``bench/*_bench.py`` module's ``run() -> list[str]`` and write bench/RESULTS.md.

``python -m bench`` runs all and rewrites RESULTS.md; ``python -m bench render`` runs one and
only prints.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    wanted = set(argv)
    sections = []
    for path in sorted(HERE.glob("*_bench.py")):
        name = path.stem
        if wanted and name not in wanted and name.removesuffix("_bench") not in wanted:
            continue
        module = importlib.import_module(f"bench.{name}")
        try:
            lines = module.run()
        except Exception as exc:  # noqa: BLE001 - one failed benchmark is reported, the rest still run
            lines = [f"**This benchmark failed**: {type(exc).__name__}: {exc}"]
        sections.append((name, lines))
        print(f"## {name}", *lines, "", sep="\n", flush=True)
    if wanted:
        return 0  # a partial run prints; only a full run rewrites RESULTS.md
    header = (
        f"# Benchmark results\n\nRun {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.machine()}. Ratios compare against a baseline measured in the same run.\n"
    )
    body = "".join(f"\n## {name}\n\n" + "\n".join(lines) + "\n" for name, lines in sections)
    (HERE / "RESULTS.md").write_text(header + body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
