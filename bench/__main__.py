"""Run every ``bench/*_bench.py`` module's ``run() -> list[str]`` and write bench/RESULTS.md.

``python -m bench`` runs all and rewrites RESULTS.md; ``python -m bench render`` runs one and
only prints; ``python -m bench --quick`` runs all at small sizes (a smoke test, minutes) and only
prints. ``RESDESK_BENCH_FULL=1`` adds the tick with 10,000 owed.
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
    quick = "--quick" in argv
    if quick:
        os.environ["RESDESK_BENCH_QUICK"] = "1"  # read by each benchmark when it is imported
    wanted = set(argv) - {"--quick"}
    load_before = os.getloadavg()
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
    load_after = os.getloadavg()
    print(f"Load average (1, 5, 15 min) before: {_load(load_before)}; after: {_load(load_after)}")
    if wanted or quick:
        return 0  # a partial or quick run prints; only a full run rewrites RESULTS.md
    header = (
        f"# Benchmark results\n\nRun {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.machine()}. Ratios compare against a baseline measured in the same run.\n\n"
        f"The machine is shared: load average (1, 5, 15 min) {_load(load_before)} when the run began, "
        f"{_load(load_after)} when it ended; absolute times are inflated by other work, ratios less so.\n"
    )
    body = "".join(f"\n## {name}\n\n" + "\n".join(lines) + "\n" for name, lines in sections)
    (HERE / "RESULTS.md").write_text(header + body, encoding="utf-8")
    return 0


def _load(averages: tuple[float, float, float]) -> str:
    return ", ".join(f"{value:.1f}" for value in averages)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
