"""Import throughput per layout: one 100k-line file each, detect + parse + validate.

    python -m benchmarks.bench_import [--lines 100k] [--layouts a,b]

Each layout's file is generated once under benchmarks/data/import-<lines>/ from the same
synthetic world (benchmarks/generate.py) and then read in a fresh child process, which reports
wall time, lines per second and its peak RSS. The table is printed and appended to
benchmarks/RESULTS.md between the import markers (replacing the previous one).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.bench_pipeline import BEGIN, DATA, END, RESULTS_MD, ROOT, _label, machine
from benchmarks.generate import (
    AS_OF,
    LAYOUT_BANK,
    WRITERS,
    make_world,
    opening_balance,
    parse_size,
    slice_account,
)

SEED = 7


def write_layout_file(layout: str, lines: int, folder: Path) -> Path:
    """One file of ``lines`` rows in ``layout``, every row of the world given to its bank."""
    import numpy as np

    bank = LAYOUT_BANK[layout]
    world = make_world(lines, SEED)
    rows = world.lines.assign(bank=bank).sort_values("posted_at", kind="stable")
    rows = rows.reset_index(drop=True)
    rng = np.random.default_rng(SEED)
    [fs] = slice_account(rows, bank, layout, opening_balance(rng, rows), files=1)
    folder.mkdir(parents=True, exist_ok=True)
    _, writer = WRITERS[layout]
    writer(folder / fs.name, fs)
    return folder / fs.name


def read_one(path: Path) -> dict[str, Any]:
    from benchmarks.bench_pipeline import bench_rules
    from importers import ParseContext, read_statement_file

    rules = bench_rules(path.parent)
    started, cpu_started = time.perf_counter(), time.process_time()
    importer, statements = read_statement_file(
        path, ParseContext(as_of=AS_OF), rules.account_banks()
    )
    seconds = time.perf_counter() - started
    return {
        "layout": importer.name,
        "lines": sum(len(s.transactions) for s in statements),
        "seconds": seconds,
        # CPU time of the process: on a shared machine wall time also counts other jobs
        "cpu_seconds": time.process_time() - cpu_started,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def render(rows: list[dict[str, Any]], lines: int) -> str:
    m = machine()
    out = [
        BEGIN,
        f"## Import throughput, one {lines:,}-line file per layout "
        f"({date.today().isoformat()}, commit {m['commit']}, {m['cpu']})",
        "",
        "detect + parse + validate (statement proof), no database; fresh process per file.",
        "",
        "| layout | lines | wall s | lines/s | CPU s | lines/CPU s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "failed" in r:
            out.append(f"| {r['layout']} | | | failed: {r['failed']} | | | |")
            continue
        rate = r["lines"] / r["seconds"] if r["seconds"] else 0
        cpu = r.get("cpu_seconds", 0.0)
        cpu_rate = r["lines"] / cpu if cpu else 0
        out.append(
            f"| {r['layout']} | {r['lines']:,} | {r['seconds']:.2f} | {rate:,.0f} | "
            f"{cpu:.2f} | {cpu_rate:,.0f} | {r['peak_rss'] / 2**20:,.0f} |"
        )
    out.append(END)
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=parse_size, default=100_000)
    parser.add_argument("--layouts", default=",".join(WRITERS))
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(read_one(args.child)))
        return 0
    rows: list[dict[str, Any]] = []
    for layout in [x.strip() for x in args.layouts.split(",") if x.strip()]:
        folder = DATA / f"import-{_label(args.lines)}" / layout
        existing = sorted(folder.iterdir()) if folder.is_dir() else []
        path = existing[0] if existing else write_layout_file(layout, args.lines, folder)
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_import", "--child", str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            rows.append({"layout": layout, "failed": last[:200]})
        else:
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    table = render(rows, args.lines)
    text = RESULTS_MD.read_text(encoding="utf-8") if RESULTS_MD.exists() else ""
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + table + text[text.index(END) + len(END) + 1 :]
    else:
        text = text + "\n" + table
    RESULTS_MD.write_text(text, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
