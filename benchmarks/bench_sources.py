"""Stage 2 alone: loading invoices and confirmations, first and then again, as cron does.

    python -m benchmarks.bench_sources --size 100k --db sqlite

On a fresh database, four runs of ``pipeline.load_sources`` (each a completed run):

* ``first``: everything is new;
* ``unchanged``: the same files, the next day's run date (the benchmark's incremental run);
* ``changed``: an invoice list in which 1 % of the open invoices were re-issued with another
  amount and 0.5 % are new (written to ``benchmarks/out/``), the same confirmations;
* ``same again``: that changed list once more.

Prints the wall time of each and the counts the run recorded. No statement is imported:
stage 2 does not read bank lines.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.bench_pipeline import (
    OUT,
    ensure_data,
    finish_bench_run,
    run_options,
    scratch_db,
    start_bench_run,
)
from benchmarks.generate import parse_size


def changed_invoice_list(data: Path, target: Path) -> Path:
    """The invoice list with 1 % of the Unpaid invoices at another amount and 0.5 % new ones."""
    with (data / "invoices.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    amount, status, number = (
        header.index("amount"),
        header.index("status"),
        header.index("invoice_no"),
    )
    unpaid = [r for r in body if r[status] == "Unpaid"]
    for r in unpaid[::100]:
        r[amount] = f"{int(float(r[amount])) + 1000}.00"
    top = max(int(r[number]) for r in body if r[number].isdecimal())
    extra = [[*r] for r in unpaid[: len(body) // 200]]
    for k, r in enumerate(extra, start=1):
        r[number] = str(top + k)
    with target.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *body, *extra])
    return target


def one_run(opts: Any, invoices: Path) -> dict[str, Any]:
    from reconcile import pipeline, store

    engine = store.make_engine(opts.db_url)
    run = start_bench_run(engine, opts, command="bench")
    opts = replace(opts, invoices=invoices)
    started = time.perf_counter()
    pipeline.load_sources(engine, opts, run.run_id, run)
    seconds = time.perf_counter() - started
    finish_bench_run(engine, run)
    engine.dispose()
    return {"seconds": round(seconds, 3), "counts": run.counts, "rejected": len(run.rejections)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100k")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    data = ensure_data(parse_size(args.size))
    work = OUT / f"work-sources-{args.db}-{data.name}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    changed = changed_invoice_list(data, work / "invoices_changed.csv")
    with scratch_db(args.db, work) as url:
        first = run_options(data, work, url)
        later = run_options(data, work, url, "inbox_next")
        assert isinstance(first.as_of, date)
        results = {
            "first": one_run(first, data / "invoices.csv"),
            "unchanged": one_run(later, data / "invoices.csv"),
            "changed": one_run(later, changed),
            "same again": one_run(later, changed),
        }
    for name, r in results.items():
        print(f"{args.db} {data.name} {name:>10}: {r['seconds']:7.3f} s  {json.dumps(r['counts'])}")


if __name__ == "__main__":
    main()
