"""Stage 2 across runs: an unchanged source is not read again, a changed one is diffed, and a
confirmation is read again whenever what its intake depends on moved (the invoice numbers,
the run date); the run report lists what the run touched."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from reconcile import db, pipeline, store
from reconcile.cli import main
from reconcile.config import parse_rules
from reconcile.pipeline import RunOptions, RunResult

ROOT = Path(__file__).resolve().parents[2]
RULES = parse_rules(
    """
accounts:
  - {bank: bca, account_no: "0372543386", holder: RINA WULANDARI}
"""
)
INVOICE_HEADER = "invoice_no,client_name,company_name,email,issued_on,due_on,amount,status\n"
BUDI = "20431,Budi Santoso,,budi@example.com,2026-02-25,2026-03-04,{amount},Unpaid\n"
SITI = "20432,Siti Rahayu,,siti@example.com,2026-02-26,2026-03-05,750000.00,Unpaid\n"
AGUS = "20450,Agus Salim,,agus@example.com,2026-02-27,2026-03-06,300000.00,Unpaid\n"
CONFIRMATION_HEADER = (
    "ticket_id,submitted_at,name,email,subject,department,related_service,message,invoice_no,"
    "bank_destination,amount,transfer_date,account_name,attachment\n"
)
TICKETS = (
    "481516,2026-03-02 21:05:11,Budi Santoso,budi@example.com,Konfirmasi Invoice #20431,"
    "Billing,,Sudah transfer,#20431,bca,Rp 1.500.000,02/03/2026,BUDI SANTOSO,\n"
    # names an invoice the list does not hold yet
    "481520,2026-03-03 08:00:00,Agus Salim,agus@example.com,Konfirmasi #20450,"
    "Billing,,,INV 20450,bca,Rp 300.000,03/03/2026,AGUS SALIM,\n"
    # submitted (and sent) after the first run's date
    "481525,2026-03-12 10:00:00,Siti Rahayu,siti@example.com,Konfirmasi #20432,"
    "Billing,,,INV 20432,bca,750rb,12/03/2026,SITI RAHAYU,\n"
)
AS_OF = date(2026, 3, 10)


def write_sources(folder: Path, invoices: str, tickets: str = TICKETS) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    inv, conf = folder / "invoices.csv", folder / "confirmations.csv"
    inv.write_text(INVOICE_HEADER + invoices, encoding="utf-8")
    conf.write_text(CONFIRMATION_HEADER + tickets, encoding="utf-8")
    return inv, conf


def run_sources(url: str, tmp: Path, as_of: date = AS_OF, rules: object = RULES) -> RunResult:
    """A completed run that loads the sources in ``tmp`` (no statements, no matching)."""
    opts = RunOptions(
        rules=rules,  # type: ignore[arg-type]
        inbox=tmp / "no-inbox",
        out=tmp / "reports",
        db_url=url,
        as_of=as_of,
        invoices=tmp / "src" / "invoices.csv",
        confirmations=tmp / "src" / "confirmations.csv",
        keep_inbox=True,
        match=False,
        write_reports=False,
    )
    return pipeline.run(opts)


def stored(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = store.make_engine(url)
    try:
        with engine.connect() as conn:
            i, c, h = db.invoices.c, db.confirmations.c, db.invoice_history.c
            a, s = db.audit_log.c, db.source_loads.c
            return {
                "invoices": [
                    tuple(r)
                    for r in conn.execute(
                        select(i.invoice_no, i.amount, i.status, i.updated_run_id).order_by(
                            i.invoice_no
                        )
                    )
                ],
                "confirmations": [
                    tuple(r)
                    for r in conn.execute(
                        select(
                            c.ticket_id, c.invoice_nos, c.intake_status, c.status, c.updated_run_id
                        ).order_by(c.ticket_id)
                    )
                ],
                "history": [
                    tuple(r)
                    for r in conn.execute(
                        select(h.invoice_no, h.run_id, h.field, h.old_value, h.new_value).order_by(
                            h.id
                        )
                    )
                ],
                "audit": [
                    (r.entity_id, r.run_id, json.loads(r.detail))
                    for r in conn.execute(
                        select(a.entity_id, a.run_id, a.detail)
                        .where(a.action == "confirmation_changed")
                        .order_by(a.id)
                    )
                ],
                "loads": [
                    tuple(r)
                    for r in conn.execute(
                        select(s.run_id, s.kind, s.new_rows, s.changed_rows).order_by(s.id)
                    )
                ],
            }
    finally:
        engine.dispose()


def test_unchanged_sources_are_not_read_again(db_url: str, tmp_path: Path) -> None:
    write_sources(tmp_path / "src", BUDI.format(amount="1500000.00") + SITI)
    first = run_sources(db_url, tmp_path)
    assert first.counts["invoices_new"] == 2
    assert first.counts["confirmations_new"] == 3
    before = stored(db_url)

    second = run_sources(db_url, tmp_path)

    assert second.exit_code == 0
    assert {k: v for k, v in second.counts.items() if k.startswith(("invoices", "confirm"))} == {
        "invoices_skipped": 1,
        "confirmations_skipped": 1,
    }
    assert stored(db_url) == before  # nothing written: not a row, not a load record
    assert before["loads"] == [
        (first.run_id, "invoices", 2, 0),
        (first.run_id, "confirmations", 3, 0),
    ]
    assert second.input_hashes == first.input_hashes  # still recorded as the run's inputs


def test_changed_invoice_file_adds_updates_and_keeps_removed_invoices(
    db_url: str, tmp_path: Path
) -> None:
    write_sources(tmp_path / "src", BUDI.format(amount="1500000.00") + SITI)
    first = run_sources(db_url, tmp_path)
    # re-issued with a new amount, 20432 no longer listed, 20450 new
    write_sources(tmp_path / "src", BUDI.format(amount="1650000.00") + AGUS)

    second = run_sources(db_url, tmp_path)

    assert (second.counts["invoices_new"], second.counts["invoices_changed"]) == (1, 1)
    after = stored(db_url)
    assert after["invoices"] == [
        ("20431", Decimal("1650000.00"), "OPEN", second.run_id),
        ("20432", Decimal("750000.00"), "OPEN", first.run_id),  # kept as it was
        ("20450", Decimal("300000.00"), "OPEN", second.run_id),
    ]
    assert after["history"] == [("20431", second.run_id, "amount", "1500000.00", "1650000.00")]
    # the confirmations file did not change, the invoice numbers did: the one ticket whose
    # texts hold 20450 is read again and now names it; the others are as they were
    assert second.counts["confirmations_reread"] == 1
    assert (second.counts["confirmations_new"], second.counts["confirmations_changed"]) == (0, 1)
    assert after["confirmations"][:2] == [
        ("481516", "20431", "VALID", "AWAITING_FUNDS", first.run_id),
        ("481520", "20450", "VALID", "AWAITING_FUNDS", second.run_id),
    ]
    [(ticket, run_id, detail)] = after["audit"]
    assert (ticket, run_id, detail["invoice_nos"]) == ("481520", second.run_id, ["", "20450"])


def test_confirmations_read_again_when_the_run_date_passes_a_typed_date(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reconcile.db'}"
    write_sources(tmp_path / "src", BUDI.format(amount="1500000.00") + SITI)
    first = run_sources(url, tmp_path)
    [late] = [r for r in stored(url)["confirmations"] if r[0] == "481525"]
    assert late[2:4] == ("INVALID", "INVALID")

    second = run_sources(url, tmp_path, as_of=date(2026, 3, 12))

    # only the ticket submitted after 2026-03-10 can read differently: it alone is read again
    assert second.counts["invoices_skipped"] == 1
    assert second.counts["confirmations_reread"] == 1
    assert second.counts["confirmations_changed"] == 1
    after = stored(url)
    assert after["confirmations"] == [
        ("481516", "20431", "VALID", "AWAITING_FUNDS", first.run_id),
        ("481520", "", "VALID", "AWAITING_FUNDS", first.run_id),
        ("481525", "20432", "VALID", "AWAITING_FUNDS", second.run_id),
    ]
    [(_, _, detail)] = after["audit"]
    assert detail["intake_status"] == ["INVALID", "VALID"]

    # a later run date reads the file as 2026-03-12 did (no submission after it): skipped
    third = run_sources(url, tmp_path, as_of=date(2026, 3, 20))
    assert third.counts["confirmations_skipped"] == 1
    assert stored(url) == after


def test_a_load_by_a_run_that_did_not_complete_is_read_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reconcile.db'}"
    write_sources(tmp_path / "src", BUDI.format(amount="1500000.00") + SITI)
    engine = store.make_engine(url)
    pipeline.prepare_database(engine, RULES)
    with engine.begin() as conn:
        killed = store.start_run(
            conn, as_of=AS_OF, command="run", snapshot={}, now=datetime(2026, 3, 10, 8)
        )
    opts = RunOptions(
        rules=RULES,
        inbox=tmp_path / "no-inbox",
        out=tmp_path / "reports",
        db_url=url,
        as_of=AS_OF,
        invoices=tmp_path / "src" / "invoices.csv",
        confirmations=tmp_path / "src" / "confirmations.csv",
    )
    pipeline.load_sources(engine, opts, killed, RunResult(run_id=killed, exit_code=0))
    engine.dispose()  # the run never finishes: status RUNNING

    rerun = run_sources(url, tmp_path)

    assert "invoices_skipped" not in rerun.counts
    assert (rerun.counts["invoices_new"], rerun.counts["invoices_changed"]) == (0, 0)
    assert (rerun.counts["confirmations_new"], rerun.counts["confirmations_changed"]) == (0, 0)
    assert run_sources(url, tmp_path).counts["invoices_skipped"] == 1  # now trusted


def test_a_file_put_back_after_another_is_read_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reconcile.db'}"
    write_sources(tmp_path / "src", BUDI.format(amount="1500000.00") + SITI)
    run_sources(url, tmp_path)
    write_sources(tmp_path / "src", BUDI.format(amount="1650000.00") + SITI)
    run_sources(url, tmp_path)
    write_sources(tmp_path / "src", BUDI.format(amount="1500000.00") + SITI)

    third = run_sources(url, tmp_path)  # the first run read these bytes, but not last

    assert third.counts["invoices_changed"] == 1
    assert stored(url)["invoices"][0][:2] == ("20431", Decimal("1500000.00"))


def test_changed_reader_settings_read_the_confirmations_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reconcile.db'}"
    write_sources(tmp_path / "src", BUDI.format(amount="1500000.00") + SITI)
    run_sources(url, tmp_path)
    narrower = parse_rules(
        """
accounts:
  - {bank: bca, account_no: "0372543386", holder: RINA WULANDARI}
matching:
  invoice_number_digits: [6, 8]
"""
    )

    again = run_sources(url, tmp_path, rules=narrower)

    assert again.counts["invoices_skipped"] == 1  # the invoice reader does not use it
    assert "confirmations_skipped" not in again.counts
    # every ticket quotes a 5-digit number, no longer read as an invoice number
    assert (again.counts["confirmations_new"], again.counts["confirmations_changed"]) == (0, 3)
    assert [r[1] for r in stored(url)["confirmations"]] == ["", "", ""]


def test_a_skipped_file_reports_its_unreadable_rows_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reconcile.db'}"
    bad = "20499,Joko Susilo,,joko@example.com,2026-02-27,2026-03-06,tujuh ratus,Unpaid\n"
    write_sources(tmp_path / "src", BUDI.format(amount="1500000.00") + bad)
    first = run_sources(url, tmp_path)
    second = run_sources(url, tmp_path)

    assert second.counts["invoices_skipped"] == 1
    assert first.exit_code == second.exit_code == 3
    assert [(r.file, r.line, r.reason) for r in second.rejections] == [
        (r.file, r.line, r.reason) for r in first.rejections
    ]
    assert [r.line for r in first.rejections] == [3]


def test_upsert_keeps_what_matching_set_and_follows_the_amount_rules(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reconcile.db'}"
    write_sources(tmp_path / "src", BUDI.format(amount="1500000.00") + SITI)
    run_sources(url, tmp_path)
    engine = store.make_engine(url)
    i = db.invoices.c
    with engine.begin() as conn:  # matching paid 20431 in full, 20432 got a code
        conn.execute(
            db.invoices.update()
            .where(i.invoice_no == "20431")
            .values(status="PAID", amount_received=Decimal("1500000.00"), codes="UNDERPAID")
        )
        conn.execute(db.invoices.update().where(i.invoice_no == "20432").values(codes="AMBIGUOUS"))
    write_sources(tmp_path / "src", BUDI.format(amount="1650000.00") + SITI)

    run_sources(url, tmp_path)

    with engine.connect() as conn:
        rows = conn.execute(
            select(i.invoice_no, i.status, i.amount_received, i.codes).order_by(i.invoice_no)
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("20431", "PARTIAL", Decimal("1500000.00"), "UNDERPAID"),  # re-issued for more
        ("20432", "OPEN", Decimal("0.00"), "AMBIGUOUS"),  # unchanged in the file: untouched
    ]


def _csv_keys(path: Path, key: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [row[key] for row in csv.DictReader(fh)]


def test_run_report_lists_the_rows_the_run_touched(tmp_path: Path) -> None:
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    inbox, later = tmp_path / "sample_data" / "inbox", tmp_path / "later"
    shutil.move(inbox, later)
    inbox.mkdir()
    rules = ["--rules", str(tmp_path / "rules.yaml")]
    reports = tmp_path / "var" / "reports"

    assert main(["run", *rules]) == 0  # sources only: every invoice and ticket is new
    every_invoice = _csv_keys(reports / "invoices.csv", "invoice_no")
    every_ticket = _csv_keys(reports / "confirmations.csv", "ticket_id")
    assert len(every_invoice) == len(set(every_invoice)) > 10
    for f in later.iterdir():
        shutil.move(f, inbox / f.name)

    assert main(["run", *rules]) == 0  # the statements arrive: matching touches some

    touched = _csv_keys(reports / "invoices.csv", "invoice_no")
    # the sources are unchanged: only the invoices the statements' matching changed
    assert touched == ["20410", "20431", "20432", "20440", "20442", "20450", "20455", "20460",
                       "20465", "20470", "20475"]  # fmt: skip
    assert set(touched) < set(every_invoice)
    assert main(["report", *rules]) == 0  # the state report: everything, as it stands
    with (reports / "invoices.csv").open(encoding="utf-8", newline="") as fh:
        state = {row["invoice_no"]: row for row in csv.DictReader(fh)}
    assert set(state) == set(every_invoice)
    for no in set(every_invoice) - set(touched):  # what matching did not touch is as loaded
        assert (state[no]["amount_received"], state[no]["codes"]) == ("0.00", ""), no
    assert set(_csv_keys(reports / "confirmations.csv", "ticket_id")) == set(every_ticket)


def test_source_loads_record_what_was_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reconcile.db'}"
    inv, conf = write_sources(tmp_path / "src", BUDI.format(amount="1500000.00") + SITI)
    run = run_sources(url, tmp_path)
    engine = store.make_engine(url)
    with engine.connect() as conn:
        last = store.last_source_load(conn, "confirmations")
        count = conn.execute(select(func.count()).select_from(db.source_loads)).scalar_one()
    engine.dispose()
    assert count == 2
    assert last is not None
    assert (last.run_id, last.run_completed, last.origin) == (run.run_id, True, str(conf.resolve()))
    assert last.sha256 == run.input_hashes["confirmations.csv"]
    assert (last.latest_submitted_on, last.intake_as_of) == (date(2026, 3, 12), AS_OF)
    assert (last.known_invoices, last.row_count, last.rejected_rows) == (2, 3, [])
    assert inv.exists()
