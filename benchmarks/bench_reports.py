"""Report stage benchmark: CSVs + workbook for a run of N bank lines, time and peak RSS.

    python -m benchmarks.bench_reports --sizes 100k,1m
    python -m benchmarks.bench_reports --sizes 10k --profile

The matcher is not run: a database with the state a run leaves behind is written directly
(deterministic, seed 7) under benchmarks/out/reports-<size>/: N bank lines in 16 statement files
of the four company accounts (20 % debits; credits 75 % MATCHED, 15 % REVIEW, 10 % UNMATCHED;
0.5 % of the run's lines are repeats of stored lines), one active decision per credit with
its per-signal JSON, reason, codes and candidates, allocations, N/2 invoices and N/10
confirmations. Then a fresh child process calls ``reports.write_run_reports`` exactly as
``pipeline.run`` does (every line seen, every credit considered, every invoice and ticket
loaded) and reports wall seconds, CPU seconds (of that process, and apart those of the report
worker process of a big run, which writes invoices.csv and reads the later sheets' details) and
peak RSS (``ru_maxrss`` of that process, so imports and the scenario are included). ``--profile`` writes a cProfile dump and its top
entries beside the database.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pickle
import pstats
import resource
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SEED = 7
AS_OF = date(2026, 3, 31)
NOW = datetime(2026, 3, 31, 7, 0, 0)
ACCOUNTS = {
    "mandiri": "1370010136428",
    "bca": "0372543386",
    "bni": "0495227030",
    "bri": "002901124296507",
}
FIRST_NAMES = ("Budi", "Siti", "Hendra", "Dewi", "Agus", "Wahyu", "Rina", "Andi", "Toni", "Sri")
LAST_NAMES = ("Santoso", "Rahayu", "Wijaya", "Lestari", "Prasetyo", "Hidayat", "Gunawan")
CODES_MATCHED = ("", "", "", "", "", "", "", "", "UNDERPAID", "COMBINED_PAYMENT",
                 "SPLIT_PAYMENT", "NAME_MISMATCH", "DUPLICATE_PAYMENT", "OVERPAID")  # fmt: skip
CODES_REVIEW = ("AMBIGUOUS", "NAME_MISMATCH", "UNDERPAID;NAME_MISMATCH", "AMBIGUOUS",
                "PAYMENT_ON_CLOSED_INVOICE")  # fmt: skip


def _label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


def _size(text: str) -> int:
    text = text.strip().lower()
    if text.endswith("m"):
        return int(text[:-1]) * 1_000_000
    if text.endswith("k"):
        return int(text[:-1]) * 1000
    return int(text)


def _rules(work: Path) -> Any:
    from reconcile.config import Rules

    return Rules.model_validate(
        {
            "accounts": [
                {"bank": b, "account_no": a, "holder": "Rina Wulandari"}
                for b, a in ACCOUNTS.items()
            ],
            "base_dir": str(work),
            "language": "id",
        }
    )


def _signals(rng: np.random.Generator, n: int) -> list[str]:
    levels = rng.integers(0, 3, size=(n, 3))
    sims = rng.integers(40, 101, size=n)
    gaps = rng.integers(0, 6501, size=n)
    amount = ("exact", "within_tolerance", "different")
    reference = ("invoice_no", "none", "none")
    name = ("client", "weak", "different")
    return [
        json.dumps(
            {
                "amount": {"gap_sen": int(gaps[i]), "level": amount[levels[i, 0]], "weight": 40},
                "confirmation": {"level": "none", "weight": 0},
                "date": {"banking_days_after_due": 0, "level": "in_window", "weight": 5},
                "name": {"level": name[levels[i, 2]], "similarity": int(sims[i]), "weight": 20},
                "rarity": {"level": "common", "weight": 0},
                "reference": {"level": reference[levels[i, 1]], "weight": 35},
            },
            sort_keys=True,
        )
        for i in range(n)
    ]


def build(size: int, work: Path) -> dict[str, Any]:
    """The database a run of ``size`` lines leaves behind, and what the run hands to reports."""
    import pandas as pd

    from reconcile import db, pipeline, store
    from reconcile.pipeline import SeenLines

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db_url = f"sqlite:///{work / 'reconcile.db'}"
    rules = _rules(work)
    engine = store.make_engine(db_url)
    pipeline.prepare_database(engine, rules)
    rng = np.random.default_rng(SEED)
    n = size
    with engine.begin() as conn:
        store.bulk_insert(
            conn,
            db.runs,
            [{"id": 1, "started_at": NOW, "as_of": AS_OF, "command": "run", "status": "RUNNING"}],
        )
        files = []
        period = 40
        for k, (bank, account) in enumerate(ACCOUNTS.items()):
            for part in range(4):
                start = AS_OF - timedelta(days=period - part * 10)
                files.append(
                    {
                        "id": 4 * k + part + 1,
                        "run_id": 1,
                        "file_name": f"{bank}_{account}_{part + 1:02d}.csv",
                        "sha256": f"{4 * k + part + 1:064x}",
                        "status": "IMPORTED",
                        "bank": bank,
                        "layout": f"{bank}_csv",
                        "account_no": account,
                        "period_start": start,
                        # one missing day in the BRI statements: a gap the summary must show
                        "period_end": start + timedelta(days=8 if bank == "bri" else 9),
                        "line_count": n // 16,
                        "new_lines": n // 16,
                        "duplicate_lines": 0,
                        "recorded_at": NOW,
                    }
                )
        store.bulk_insert(conn, db.statement_files, files)
        file_of = rng.integers(0, 16, size=n)
        file_of.sort()
        day_of = rng.integers(0, 10, size=n)
        debit = rng.random(n) < 0.2
        fee = debit & (rng.random(n) < 0.1)
        amount_sen = rng.choice(
            np.array([16_500_000, 150_000_000, 33_000_000, 125_000_000, 99_000_000]), size=n
        ) + np.where(rng.random(n) < 0.3, rng.integers(1, 100_000, size=n) * 100, 0)
        roll = rng.random(n)
        status = np.where(
            debit,
            "IGNORED",
            np.where(roll < 0.75, "MATCHED", np.where(roll < 0.9, "REVIEW", "UNMATCHED")),
        )
        first = rng.integers(0, len(FIRST_NAMES), size=n)
        last = rng.integers(0, len(LAST_NAMES), size=n)
        lines = []
        line_in_file: dict[int, int] = {}
        for i in range(n):
            f = files[int(file_of[i])]
            source_line = line_in_file[int(file_of[i])] = line_in_file.get(int(file_of[i]), 5) + 1
            name = f"{FIRST_NAMES[first[i]]} {LAST_NAMES[last[i]]}".upper()
            if i % 997 == 0:
                name = f"=HYPERLINK({i})"  # formula-shaped sender names stay text
            inv = 100_000 + i // 2
            lines.append(
                {
                    "id": i + 1,
                    "statement_file_id": f["id"],
                    "source_file": f["file_name"],
                    "source_line": source_line,
                    "bank": f["bank"],
                    "layout": f["layout"],
                    "account_no": f["account_no"],
                    "posted_on": f["period_start"] + timedelta(days=int(day_of[i])),
                    "pending": False,
                    "direction": "DB" if debit[i] else "CR",
                    "amount": Decimal(int(amount_sen[i])) / 100,
                    "description": f"TRSF E-BANKING CR {i:08d}/FTSCY/WS95031 INV {inv} {name}",
                    "counterparty": None if debit[i] else name,
                    "message": f"INV {inv}" if i % 3 == 0 else None,
                    "is_fee": bool(fee[i]),
                    "dedup_key": f"{i:032x}",
                    "occurrence": 0,
                    "status": str(status[i]),
                    "first_run_id": 1,
                }
            )
        store.bulk_insert(conn, db.bank_lines, lines)
        credit_ids = [i + 1 for i in range(n) if not debit[i]]
        signals = _signals(rng, len(credit_ids))
        code_pick = rng.integers(0, 1000, size=len(credit_ids))
        decisions, allocations = [], []
        for k, line_id in enumerate(credit_ids):
            i = line_id - 1
            st = str(status[i])
            inv = str(100_000 + i // 2)
            if st == "MATCHED":
                codes = CODES_MATCHED[code_pick[k] % len(CODES_MATCHED)]
                rule, score = "invoice_ref", 95
            elif st == "REVIEW":
                codes = CODES_REVIEW[code_pick[k] % len(CODES_REVIEW)]
                rule, score = "amount_only", 60
            else:
                codes, rule, score = "UNIDENTIFIED_CREDIT", "none", 0
            decisions.append(
                {
                    "id": k + 1,
                    "run_id": 1,
                    "bank_line_id": line_id,
                    "status": st,
                    "rule": rule,
                    "score": score,
                    "signals": signals[k] if st != "UNMATCHED" else "{}",
                    "reason": f"amount exact; invoice #{inv} in description; name "
                    f"{lines[i]['counterparty']!r} ~ client {lines[i]['counterparty']!r} 100",
                    "codes": codes,
                    "invoice_nos": inv if st != "UNMATCHED" else "",
                    "confirmation_ids": f"T{i:07d}" if i % 10 == 0 else "",
                    "candidates": f"{inv};{100_000 + i // 2 + 1}" if st == "REVIEW" else "",
                    "decided_by": "auto" if k % 50 else "reviewer@example.com",
                    "active": True,
                    "created_at": NOW,
                }
            )
            if st == "MATCHED":
                allocations.append(
                    {
                        "id": len(allocations) + 1,
                        "bank_line_id": line_id,
                        "invoice_no": inv,
                        "amount": lines[i]["amount"],
                        "decision_id": k + 1,
                        "run_id": 1,
                        "active": True,
                    }
                )
        store.bulk_insert(conn, db.decisions, decisions)
        store.bulk_insert(conn, db.allocations, allocations)
        invoice_nos = [str(100_000 + j) for j in range(n // 2)]
        store.bulk_insert(
            conn,
            db.invoices,
            [
                {
                    "invoice_no": no,
                    "client_name": "Budi Santoso",
                    "company_name": "",
                    "email": "",
                    "amount": Decimal("1650000.00"),
                    "source_status": "Unpaid",
                    "status": ("PAID", "OPEN", "PARTIAL", "REVIEW")[j % 4],
                    "amount_received": Decimal("1650000.00") if j % 4 == 0 else Decimal("0.00"),
                    "codes": "UNDERPAID" if j % 40 == 3 else "",
                    "reason": "paid by line" if j % 4 == 0 else "",
                    "first_run_id": 1,
                    "updated_run_id": 1,
                }
                for j, no in enumerate(invoice_nos)
            ],
        )
        tickets = [f"T{j:07d}" for j in range(0, n, 10)]
        store.bulk_insert(
            conn,
            db.confirmations,
            [
                {
                    "ticket_id": t,
                    "name": "Budi Santoso",
                    "email": "",
                    "dest_not_ours": False,
                    "account_name": "BUDI SANTOSO" if j % 2 else None,
                    "invoice_nos": f"{100_000 + j * 5}" if j % 7 else "",
                    "bank_destination_raw": "BCA 0372543386",
                    "dest_account_no": "0372543386",
                    "amount": Decimal("1650000.00"),
                    "transfer_date": AS_OF - timedelta(days=j % 20),
                    "intake_status": "VALID",
                    "intake_reason": "",
                    "status": ("MATCHED", "NO_FUNDS", "AWAITING_FUNDS", "REVIEW")[j % 4],
                    "codes": "CONFIRMATION_WITHOUT_FUNDS" if j % 4 == 1 else "",
                    "line_ids": str(j * 10 + 1) if j % 4 == 0 else "",
                    "reason": "no credit within 2 banking days" if j % 4 == 1 else "",
                    "first_run_id": 1,
                }
                for j, t in enumerate(tickets)
            ],
        )
    engine.dispose()
    file_index, files = pd.factorize(pd.Series([r["source_file"] for r in lines]))
    listed = SeenLines(
        np.array([r["id"] for r in lines], dtype=np.int64),
        np.array([r["source_line"] for r in lines], dtype=np.int64),
        np.zeros(len(lines), dtype=bool),
        tuple(files),
        file_index.astype(np.int32),
    )
    repeats = rng.choice(n, size=n // 200, replace=False)
    repeated = SeenLines(
        (repeats + 1).astype(np.int64),
        np.arange(2, len(repeats) + 2, dtype=np.int64),
        np.ones(len(repeats), dtype=bool),
        ("repeat.csv",),
        np.zeros(len(repeats), dtype=np.int32),
    )
    seen = SeenLines.joined([listed, repeated])
    return {
        "db_url": db_url,
        "seen": seen,
        "considered": credit_ids,
        "invoice_nos": invoice_nos,
        "ticket_ids": tickets,
    }


def report_child(work: Path, profile: bool) -> None:
    """Runs in a fresh process: the report stage alone, on the database ``build`` left."""
    from reconcile import reports
    from reconcile.pipeline import RunOptions
    from reconcile.store import make_engine

    scenario = pickle.loads((work / "scenario.pickle").read_bytes())
    opts = RunOptions(
        rules=_rules(work),
        inbox=work / "inbox",
        out=work / "reports",
        db_url=scenario["db_url"],
        as_of=AS_OF,
        clock=lambda: NOW,
    )
    engine = make_engine(scenario["db_url"])
    prof = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if prof is not None:
        prof.enable()
    paths = reports.write_run_reports(
        engine,
        opts,
        1,
        seen=scenario["seen"],
        considered=scenario["considered"],
        invoice_nos=scenario["invoice_nos"],
        ticket_ids=scenario["ticket_ids"],
        rejections=[],
    )
    if prof is not None:
        prof.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    engine.dispose()
    if prof is not None:
        prof.dump_stats(work / "report.prof")
        with (work / "report.prof.txt").open("w", encoding="utf-8") as fh:
            pstats.Stats(prof, stream=fh).sort_stats("tottime").print_stats(25)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "seconds": wall,
        "cpu_seconds": cpu,
        "worker_cpu_seconds": workers.ru_utime + workers.ru_stime,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "files": {p.name: p.stat().st_size for p in paths},
    }
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m", help="comma-separated: 10k,100k,1m")
    parser.add_argument("--profile", action="store_true", help="cProfile the report stage")
    parser.add_argument("--reuse", action="store_true", help="keep an existing database")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        report_child(args.child, args.profile)
        return
    for size in [_size(s) for s in args.sizes.split(",")]:
        work = OUT / f"reports-{_label(size)}"
        if not (args.reuse and (work / "scenario.pickle").exists()):
            started = time.perf_counter()
            scenario = build(size, work)
            (work / "scenario.pickle").write_bytes(pickle.dumps(scenario))
            print(f"{_label(size)}: database written in {time.perf_counter() - started:.1f} s")
        shutil.rmtree(work / "reports", ignore_errors=True)
        cmd = [sys.executable, "-m", "benchmarks.bench_reports", "--child", str(work)]
        done = subprocess.run(
            cmd + (["--profile"] if args.profile else []),
            check=True,
            capture_output=True,
            text=True,
            cwd=HERE.parent,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        sizes = ", ".join(f"{k} {v / 2**20:.1f} MiB" for k, v in result["files"].items())
        worker_cpu = result.get("worker_cpu_seconds", 0.0)
        print(
            f"{_label(size)}: report stage {result['seconds']:.1f} s wall, "
            f"{result['cpu_seconds']:.1f} s CPU"
            + (f" + {worker_cpu:.1f} s in a worker process" if worker_cpu else "")
            + f", peak RSS {result['peak_rss_mib']:.0f} MiB ({sizes})",
            flush=True,
        )


if __name__ == "__main__":
    main()
