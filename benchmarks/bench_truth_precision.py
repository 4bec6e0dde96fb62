"""Precision of automatic links against the benchmark generator's own truth.

The matching scenarios (benchmarks/scenarios.py) are labelled by the matcher's authors; this is
the independent check: files written by benchmarks/generate.py, imported through the real
importers, matched by decide(), and every MATCHED line compared with truth_lines.csv.

    python -m benchmarks.generate --size 10k --seed 7 --out benchmarks/data/10k
    python -m benchmarks.bench_truth_precision --data benchmarks/data/10k
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from reconcile import db, pipeline, store
from reconcile.config import load_rules
from reconcile.matching import decide
from reconcile.pipeline import RunOptions

REPO = Path(__file__).resolve().parent.parent


def _invoice_set(value: object) -> str:
    return ";".join(sorted(x for x in str(value).split(";") if x and x != "nan"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "benchmarks/data/10k")
    parser.add_argument("--as-of", default="2026-12-31")
    parser.add_argument("--show", type=int, default=15, help="wrong links to print")
    args = parser.parse_args()
    rules = load_rules(REPO / "rules.yaml")
    as_of = date.fromisoformat(args.as_of)
    work = Path(tempfile.mkdtemp(prefix="truth-"))
    opts = RunOptions(
        rules=rules,
        inbox=args.data / "inbox",
        out=work / "out",
        db_url=f"sqlite:///{work / 'bench.db'}",
        as_of=as_of,
        invoices=args.data / "invoices.csv",
        confirmations=args.data / "confirmations.csv",
        keep_inbox=True,
        match=False,
        write_reports=False,
    )
    pipeline.run(opts)
    engine = store.make_engine(opts.db_url)
    with engine.connect() as conn:
        credits = store.load_credits(conn)
        invoices = store.load_invoices(conn)
        confirmations = store.load_confirmations(conn)
        aliases = store.load_aliases(conn)
        c = db.bank_lines.c
        where = pd.DataFrame(
            conn.execute(select(c.id, c.source_file, c.source_line)).fetchall(),
            columns=["line_id", "file", "source_line"],
        )
    started = time.perf_counter()
    result = decide(credits, invoices, confirmations, aliases, rules.matching, as_of)
    seconds = time.perf_counter() - started
    truth = pd.read_csv(args.data / "truth_lines.csv", dtype=str, keep_default_na=False)
    truth["source_line"] = truth["source_line"].astype(int)
    truth = truth.rename(columns={"invoice_nos": "truth_invoice_nos"})
    lines = result.lines.merge(where, on="line_id").merge(
        truth, on=["file", "source_line"], how="left"
    )
    auto = lines[lines["status"] == "MATCHED"].copy()
    auto["got"] = auto["invoice_nos"].map(_invoice_set)
    auto["want"] = auto["truth_invoice_nos"].map(_invoice_set)
    wrong = auto[auto["got"] != auto["want"]]
    precision = 1 - len(wrong) / len(auto) if len(auto) else 1.0
    print(f"credits {len(credits)}, invoices {len(invoices)}, confirmations {len(confirmations)}")
    print(f"decide() {seconds:.1f} s")
    print(f"automatic links {len(auto)}, wrong {len(wrong)}, precision {precision:.2%}")
    print(pd.crosstab(lines["kind"], lines["status"]).to_string())
    cols = ["kind", "got", "want", "rule", "codes", "reason"]
    print(wrong[cols].head(args.show).to_string())


if __name__ == "__main__":
    main()
