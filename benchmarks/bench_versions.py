"""Benchmark plans changing: the diff of two packs of the shipped size, and re-checking
100,000 sites against two packs beside one check of the same sites, in the same run.

Scenarios:

* diff: ``zoning.versions.diff.diff_packs`` of the shipped pack and a copy with the edits of
  tests/versions_edits.py (a zone moved, one removed, one added, a rule's period and a quota
  figure changed), hashes computed from cold (target < 5 s);
* check: ``zoning check SITES.csv -o out.csv`` on N point sites spread over the city (the
  baseline);
* check --against: the same with ``--against`` the shipped pack (target < 2x the check);
  the edits include a rule, so every site is checked against the old pack too.

Each command runs in a fresh subprocess (median of ``--repeat`` runs). Writes
benchmarks/results/versions.json and versions.md. ``--quick``: 10,000 sites.

    python benchmarks/bench_versions.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def _sites(path: Path, n: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(17)
    lon = rng.uniform(112.0, 113.5, n)
    lat = rng.uniform(35.25, 36.0, n)
    pd.DataFrame({"项目名称": [f"site {i}" for i in range(n)], "经度": lon.round(6), "纬度": lat.round(6)}).to_csv(
        path, index=False)


def _timed(args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, cwd=REPO)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    n = 10_000 if a.quick else 100_000
    from versions_edits import SHIPPED, edited_pack

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        new = edited_pack(tmp / "new")
        sites = tmp / "sites.csv"
        _sites(sites, n)
        code = ("import sys,time; t=time.perf_counter(); from zoning.versions.diff import diff_packs; "
                f"d=diff_packs({str(SHIPPED)!r}, {str(new)!r}); print(time.perf_counter()-t)")
        diff_s = [float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                                       cwd=REPO).stdout) for _ in range(a.repeat)]
        zoning = [sys.executable, "-m", "zoning.cli.main"]
        base = [*zoning, "check", str(sites), "--pack", str(new), "--date", "2025-10-01", "--no-progress",
                "--overwrite"]
        check_s = [_timed([*base, "-o", str(tmp / "one.csv")]) for _ in range(a.repeat)]
        against_s = [_timed([*base, "--against", str(SHIPPED), "-o", str(tmp / "two.csv")]) for _ in range(a.repeat)]
        import pandas as pd

        changed = int((pd.read_csv(tmp / "two.csv", encoding="utf-8-sig", usecols=["变化"])["变化"] == "是").sum())
    res = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}", "sites": n,
        "diff_s": statistics.median(diff_s), "check_s": statistics.median(check_s),
        "check_against_s": statistics.median(against_s), "changed_sites": changed,
        "runs": {"diff": diff_s, "check": check_s, "check_against": against_s},
    }
    res["ratio"] = res["check_against_s"] / res["check_s"]
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    suffix = "_quick" if a.quick else ""
    (out / f"versions{suffix}.json").write_text(json.dumps(res, indent=2) + "\n")
    md = [
        "# Plans change: diff and re-check (benchmarks/bench_versions.py)", "",
        f"{res['machine']}; median of {a.repeat} runs, each a fresh process.", "",
        "| what | size | seconds | target |", "| --- | ---: | ---: | --- |",
        f"| `diff_packs` shipped pack vs edited copy (hashes from cold) | 6 layers, 847 features + 406 projects | "
        f"{res['diff_s']:.2f} | < 5 s |",
        f"| `zoning check` CSV → CSV (baseline) | {n:,} points | {res['check_s']:.2f} | |",
        f"| `zoning check --against` the shipped pack | {n:,} points ({changed:,} changed) | "
        f"{res['check_against_s']:.2f} ({res['ratio']:.2f}× the check) | < 2× |",
    ]
    (out / f"versions{suffix}.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
