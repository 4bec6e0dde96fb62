"""Storage on SQLite, PostgreSQL and MariaDB: migrations from empty, money to the sen, dedup."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Connection, event, func, insert, inspect, select

from reconcile import db
from reconcile.config import parse_rules
from reconcile.matching import MatchResult
from reconcile.migrate import current_revision, head_revision, upgrade
from reconcile.model import Direction, Statement, Transaction
from reconcile.store import (
    ImportOutcome,
    count_open_credits,
    credits_proposing,
    import_statements,
    load_credits,
    make_engine,
    persist_match,
    start_run,
    sync_accounts,
)

NOW = datetime(2026, 3, 10, 9, 0, 0)
RULES = parse_rules(
    """
accounts:
  - {bank: bca, account_no: "0372543386", holder: Erna Kurniati}
  - {bank: bri, account_no: "002901124296507", holder: Erna Kurniati}
"""
)


def _line(
    amount: str,
    balance: str | None,
    line: int,
    desc: str = "BI-FAST CR TRANSFER DR 008 SITI",
    posted: date | None = date(2026, 3, 2),
) -> Transaction:
    return Transaction(
        bank="bca",
        layout="bca_klikbca_individual",
        account_no="0372543386",
        posted_on=posted,
        pending=posted is None,
        direction=Direction.CR,
        amount=Decimal(amount),
        balance=Decimal(balance) if balance else None,
        description=desc,
        source_line=line,
        counterparty="SITI",
    )


def _started(conn: Connection) -> int:
    """The company accounts in place and a run started: what importing needs."""
    sync_accounts(conn, RULES)
    return start_run(conn, as_of=date(2026, 3, 10), command="test", snapshot={}, now=NOW)


def _import(
    conn: Connection,
    run_id: int,
    rows: list[Transaction],
    *,
    file_name: str = "a.csv",
    sha: str = "0",
    layout: str = "bca_klikbca_individual",
) -> ImportOutcome:
    """``rows`` imported as one statement file of run ``run_id`` (``sha``: the digit its
    sha256 repeats)."""
    return import_statements(
        conn, run_id=run_id, file_name=file_name, sha256=sha * 64, layout=layout,
        statements=_stmt(rows), now=NOW,
    )  # fmt: skip


def _stmt(rows: list[Transaction]) -> list[Statement]:
    return [
        Statement(
            bank="bca", layout="bca_klikbca_individual", account_no="0372543386", transactions=rows
        )
    ]


def test_migrations_upgrade_from_empty_to_head(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {
        "accounts",
        "runs",
        "statement_files",
        "bank_lines",
        "invoices",
        "invoice_history",
        "confirmations",
        "decisions",
        "allocations",
        "payer_aliases",
        "audit_log",
    } <= tables
    upgrade(engine)  # a second upgrade is a no-op
    assert current_revision(engine) == head_revision()


def test_money_round_trips_to_the_sen_and_account_numbers_keep_leading_zeros(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        _imported(
            conn, [_line("1500000.17", "9999999999999999.99", 5), _line("0.01", None, 6, desc="X")]
        )
    with engine.connect() as conn:
        got = conn.execute(
            select(
                db.bank_lines.c.amount, db.bank_lines.c.balance, db.bank_lines.c.account_no
            ).order_by(db.bank_lines.c.source_line)
        ).all()
        accounts = sorted(r[0] for r in conn.execute(select(db.accounts.c.account_no)))
    assert got[0] == (Decimal("1500000.17"), Decimal("9999999999999999.99"), "0372543386")
    assert got[1][0] == Decimal("0.01") and isinstance(got[1][0], Decimal)
    assert accounts == ["002901124296507", "0372543386"]


def test_same_statement_twice_creates_no_new_lines_and_points_at_the_originals(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    rows = [_line("100000.00", "100000.00", 5), _line("100000.00", "200000.00", 6)]
    with engine.begin() as conn:
        run_id = _started(conn)
        first = _import(conn, run_id, rows, sha="1")
        second = _import(conn, run_id, rows, file_name="a-again.csv", sha="1")
    assert len(first.new_line_ids) == 2
    assert second.new_line_ids == []
    assert second.duplicates == [(5, first.new_line_ids[0]), (6, first.new_line_ids[1])]


def test_identical_twin_transfers_without_balance_stay_two_lines_and_overlap_adds_only_the_new(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    twin = "NBMB BUDI TO RINA WULANDARI"
    with engine.begin() as conn:
        run_id = _started(conn)
        a = _import(conn, run_id, [_line("50000.00", None, 2, twin)], sha="2", layout="x")
        b = _import(
            conn,
            run_id,
            [_line("50000.00", None, 2, twin), _line("50000.00", None, 3, twin)],
            file_name="b.csv",
            sha="3",
            layout="x",
        )
    assert len(a.new_line_ids) == 1
    assert b.duplicates == [(2, a.new_line_ids[0])]
    assert len(b.new_line_ids) == 1


def test_pending_row_takes_its_posting_date_from_the_later_export(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    desc = "TRSF E-BANKING CR 0403/FTSCY/WS95031 350000.00 AGUS PRASETYO"
    with engine.begin() as conn:
        run_id = _started(conn)
        a = _import(
            conn,
            run_id,
            [_line("350000.00", "17590000.00", 9, desc, posted=None)],
            sha="4",
            layout="x",
        )
        b = _import(
            conn,
            run_id,
            [_line("350000.00", "17590000.00", 6, desc, posted=date(2026, 3, 5))],
            file_name="b.csv",
            sha="5",
            layout="x",
        )
        row = conn.execute(select(db.bank_lines.c.posted_on, db.bank_lines.c.pending)).one()
    assert b.new_line_ids == [] and b.duplicates == [(6, a.new_line_ids[0])]
    assert row == (date(2026, 3, 5), False)


def test_schema_changes_on_sqlite_roll_back_with_their_transaction(sqlite_url: str) -> None:
    """A run killed during its first migration must not leave half a schema behind."""
    from sqlalchemy import text

    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        tx = conn.begin()
        conn.execute(text("CREATE TABLE half_built (id INTEGER)"))
        tx.rollback()
    assert "half_built" not in inspect(engine).get_table_names()


def test_aliases_proved_by_confirmations_are_learned_once_and_a_removed_one_stays_removed(
    db_url: str,
) -> None:
    import pandas as pd
    from sqlalchemy import update

    from reconcile.store import learn_aliases

    engine = make_engine(db_url)
    upgrade(engine)
    frame = pd.DataFrame(
        {"sender_norm": ["SRI WAHYUNI", "SRI WAHYUNI"], "client_key": ["budi@example.com"] * 2}
    )
    with engine.begin() as conn:
        run_id = start_run(conn, as_of=date(2026, 3, 10), command="test", snapshot={}, now=NOW)
        assert learn_aliases(conn, frame, now=NOW, run_id=run_id) == 1
        assert learn_aliases(conn, frame, now=NOW, run_id=run_id) == 0
        conn.execute(update(db.payer_aliases).values(removed_at=NOW))
        assert learn_aliases(conn, frame, now=NOW, run_id=run_id) == 0
        rows = conn.execute(
            select(
                db.payer_aliases.c.sender_norm,
                db.payer_aliases.c.client_key,
                db.payer_aliases.c.source,
            )
        ).all()
    assert rows == [("SRI WAHYUNI", "budi@example.com", "confirmation")]


def _invoice_frame(rows: list[tuple[str, int, str]]) -> object:
    import pandas as pd

    return pd.DataFrame(
        {
            "invoice_no": [r[0] for r in rows],
            "client_name": ["Budi Santoso"] * len(rows),
            "company_name": [""] * len(rows),
            "email": ["budi@example.com"] * len(rows),
            "issued_on": [date(2026, 2, 25)] * len(rows),
            "due_on": [date(2026, 3, 4)] * len(rows),
            "amount_sen": [r[1] for r in rows],
            "source_status": [r[2] for r in rows],
            "source_row": list(range(2, len(rows) + 2)),
        }
    )


def test_invoices_upserted_across_runs_keep_their_history(db_url: str) -> None:
    from reconcile.store import upsert_invoices

    engine = make_engine(db_url)
    upgrade(engine)
    first = _invoice_frame([("20431", 150_000_000, "Unpaid"), ("20432", 75_000_000, "Unpaid")])
    second = _invoice_frame([("20431", 165_000_000, "Unpaid"), ("20432", 75_000_000, "Cancelled")])
    with engine.begin() as conn:
        run1 = start_run(conn, as_of=date(2026, 3, 10), command="test", snapshot={}, now=NOW)
        assert upsert_invoices(conn, run_id=run1, frame=first, now=NOW) == {"new": 2, "changed": 0}
        assert upsert_invoices(conn, run_id=run1, frame=first, now=NOW) == {"new": 0, "changed": 0}
        run2 = start_run(conn, as_of=date(2026, 3, 11), command="test", snapshot={}, now=NOW)
        assert upsert_invoices(conn, run_id=run2, frame=second, now=NOW) == {"new": 0, "changed": 2}
        inv = db.invoices.c
        rows = conn.execute(
            select(inv.invoice_no, inv.amount, inv.status, inv.source_status).order_by(
                inv.invoice_no
            )
        ).all()
        h = db.invoice_history.c
        history = conn.execute(
            select(h.invoice_no, h.run_id, h.field, h.old_value, h.new_value).order_by(h.id)
        ).all()
    assert rows == [
        ("20431", Decimal("1650000.00"), "OPEN", "Unpaid"),
        ("20432", Decimal("750000.00"), "CANCELLED", "Cancelled"),
    ]
    assert [tuple(r) for r in history] == [
        ("20431", run2, "amount", "1500000.00", "1650000.00"),
        ("20432", run2, "source_status", "Unpaid", "Cancelled"),
        ("20432", run2, "status", "OPEN", "CANCELLED"),
    ]


def test_invoices_named_by_their_digits_are_found_by_key_without_reading_every_number(
    db_url: str,
) -> None:
    from reconcile.store import invoice_numbers_keyed, upsert_invoices

    engine = make_engine(db_url)
    upgrade(engine)
    frame = _invoice_frame(
        [("20431", 150_000_000, "Unpaid"), ("INV-0020440", 75_000_000, "Paid"),
         ("#020431", 50_000_000, "Unpaid"), ("20442", 20_000_000, "Cancelled"),
         ("INV-000", 10_000_000, "Unpaid"), ("WEB-ORDER", 10_000_000, "Paid")]
    )  # fmt: skip
    with engine.begin() as conn:
        run1 = start_run(conn, as_of=date(2026, 3, 10), command="test", snapshot={}, now=NOW)
        upsert_invoices(conn, run_id=run1, frame=frame, now=NOW)
        inv = db.invoices.c
        keys = dict(conn.execute(select(inv.invoice_no, inv.number_key)).all())
        # 'INV-000' and 'WEB-ORDER' have no key: always returned, the caller's reading decides
        named = invoice_numbers_keyed(conn, {"20431", "20440", "0204", "99999"})
        closed = invoice_numbers_keyed(conn, {"20431", "20440", "20442"}, closed_since=run1)
    engine.dispose()
    assert keys == {"20431": "20431", "INV-0020440": "20440", "#020431": "20431",
                    "20442": "20442", "INV-000": "", "WEB-ORDER": ""}  # fmt: skip
    assert named == ["#020431", "20431", "INV-000", "INV-0020440", "WEB-ORDER"]
    # closed ones only: 20442 (cancelled); not the open ones nor INV-0020440 (paid in the
    # billing system, no money seen: a credit may still be its payment)
    assert closed == ["20442"]


def test_upgrade_gives_the_invoices_already_stored_their_number_keys(db_url: str) -> None:
    from reconcile.store import invoice_numbers_keyed

    engine = make_engine(db_url)
    upgrade(engine, "0003")  # the schema before number_key
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO invoices (invoice_no, client_name, company_name, email, amount, "
            "source_status, status, amount_received, codes, reason) VALUES "
            "('INV-0020431', 'Budi', '', '', 1500000, 'Unpaid', 'OPEN', 0, '', ''), "
            "('0007', 'Ani', '', '', 10000, 'Unpaid', 'OPEN', 0, '', '')"
        )
    upgrade(engine)
    with engine.connect() as conn:
        inv = db.invoices.c
        keys = dict(conn.execute(select(inv.invoice_no, inv.number_key)).all())
        named = invoice_numbers_keyed(conn, {"20431"})
    engine.dispose()
    assert keys == {"INV-0020431": "20431", "0007": "7"}
    assert named == ["INV-0020431"]


def test_a_partial_confirmation_read_names_the_invoice_the_whole_read_names_when_keys_collide(
    db_url: str, tmp_path: Path
) -> None:
    """'INV-20432' and '20432' share a key: the intake keeps the last of them in number order,
    whether it reads every number (a whole read) or those a ticket can name (a partial one),
    on every database (PostgreSQL returns an unordered select in its own order)."""
    from importers.billing import load_confirmations, load_confirmations_part
    from reconcile.config import parse_rules
    from reconcile.store import invoice_numbers, invoice_numbers_keyed, upsert_invoices

    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        run1 = start_run(conn, as_of=date(2026, 3, 10), command="test", snapshot={}, now=NOW)
        upsert_invoices(conn, run_id=run1, frame=_invoice_frame([("20432", 75_000_000, "Unpaid")]),
                        now=NOW)  # fmt: skip
        run2 = start_run(conn, as_of=date(2026, 3, 11), command="test", snapshot={}, now=NOW)
        upsert_invoices(
            conn, run_id=run2, frame=_invoice_frame([("INV-20432", 75_000_000, "Unpaid")]),
            now=NOW,
        )  # fmt: skip
    path = tmp_path / "confirmations.csv"
    path.write_text(
        "ticket_id,submitted_at,name,email,subject,department,related_service,message,"
        "invoice_no,bank_destination,amount,transfer_date,account_name,attachment\n"
        "481525,2026-03-09 10:00:00,Siti,siti@example.com,Konfirmasi #20432,Billing,,,"
        "INV 20432,bca,750rb,09/03/2026,SITI,\n",
        encoding="utf-8",
    )
    rules = parse_rules(
        "accounts:\n  - {bank: bca, account_no: '0372543386', holder: Erna Kurniati}\n"
    )
    with engine.connect() as conn:
        whole = load_confirmations(path, rules, invoice_numbers(conn), date(2026, 3, 11))
        part = load_confirmations_part(
            path, rules, lambda keys: invoice_numbers_keyed(conn, keys), date(2026, 3, 11),
            mentioning={"20432"},
        )  # fmt: skip
    engine.dispose()
    assert part is not None
    assert (
        whole.frame["invoice_nos"].tolist() == part.frame["invoice_nos"].tolist() == ["INV-20432"]
    )


def test_the_migration_keys_invoice_numbers_as_the_job_does() -> None:
    import importlib.util

    import pandas as pd

    from reconcile.store import number_keys

    spec = importlib.util.spec_from_file_location(
        "number_key_migration",
        Path(__file__).parents[2] / "reconcile/migrations/versions/0004_invoice_number_key.py",
    )
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    numbers = ["20431", "#020431", "INV-2026-0042", "INV-000", "0", "WEB-ORDER", "No. 7 / 12",
               "\u0662\u0660\u0664\u0663\u0661", "12\u00b2"]  # fmt: skip
    assert [migration._key(n) for n in numbers] == number_keys(pd.Series(numbers)).tolist()


def test_confirmation_edited_between_runs_is_updated_and_audited(db_url: str) -> None:
    import json

    import pandas as pd

    from reconcile.store import upsert_confirmations

    def frame(amount_raw: str, amount_sen: int) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "ticket_id": "481516",
                    "submitted_at": pd.Timestamp("2026-03-02 21:05:11"),
                    "name": "Budi Santoso",
                    "email": "budi@example.com",
                    "subject": "Konfirmasi Pembayaran Invoice #20431",
                    "message": "",
                    "related_service": "",
                    "attachment": "",
                    "invoice_no_raw": "#20431",
                    "bank_destination_raw": "bca",
                    "amount_raw": amount_raw,
                    "transfer_date_raw": "02/03/2026",
                    "account_name": "BUDI SANTOSO",
                    "invoice_nos": "20431",
                    "dest_account_no": "0372543386",
                    "dest_not_ours": False,
                    "amount_sen": amount_sen,
                    "transfer_date": date(2026, 3, 2),
                    "intake_status": "VALID",
                    "intake_reason": "",
                    "source_row": 2,
                }
            ]
        )

    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        run1 = start_run(conn, as_of=date(2026, 3, 10), command="test", snapshot={}, now=NOW)
        assert upsert_confirmations(
            conn, run_id=run1, frame=frame("Rp 1.500.000", 150_000_000), now=NOW
        ) == {"new": 1, "changed": 0}
        assert upsert_confirmations(
            conn, run_id=run1, frame=frame("Rp 1.500.000", 150_000_000), now=NOW
        ) == {"new": 0, "changed": 0}
        assert upsert_confirmations(
            conn, run_id=run1, frame=frame("1,55 jt", 155_000_000), now=NOW
        ) == {"new": 0, "changed": 1}
        c = db.confirmations.c
        stored = conn.execute(select(c.amount, c.amount_raw, c.status)).one()
        a = db.audit_log.c
        [entry] = conn.execute(select(a.action, a.entity_id, a.detail)).all()
    assert stored == (Decimal("1550000.00"), "1,55 jt", "AWAITING_FUNDS")
    assert (entry.action, entry.entity_id) == ("confirmation_changed", "481516")
    assert json.loads(entry.detail) == {
        "amount": ["1500000.00", "1550000.00"],
        "amount_raw": ["Rp 1.500.000", "1,55 jt"],
    }


def _match_result(lines: list[tuple[int, str, str, str]]) -> MatchResult:
    """A MatchResult deciding ``lines`` (line id, status, candidates, invoice numbers), with no
    allocation and no invoice or confirmation changed."""
    n = len(lines)
    frame = pd.DataFrame(
        {
            "line_id": [line[0] for line in lines], "status": [line[1] for line in lines],
            "rule": ["name_amount"] * n, "score": [93] * n, "signals": ["{}"] * n,
            "reason": ["amount exact"] * n, "codes": ["AMBIGUOUS"] * n,
            "invoice_nos": [line[3] for line in lines], "confirmation_ids": [""] * n,
            "candidates": [line[2] for line in lines],
        }
    )  # fmt: skip
    empty = pd.DataFrame(
        {"invoice_no": [], "status": [], "received_sen": [], "codes": [], "reason": []}
    )
    none = pd.DataFrame({"ticket_id": [], "status": [], "codes": [], "line_ids": [], "reason": []})
    alloc = pd.DataFrame({"line_id": [], "invoice_no": [], "amount_sen": []})
    aliases = pd.DataFrame({"sender_norm": [], "client_key": []})
    return MatchResult(frame, alloc, empty, none, aliases)


def test_persisting_the_same_decisions_with_one_new_line_writes_only_the_new_one(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    upgrade(engine)

    def result(line_ids: list[int]) -> MatchResult:
        return _match_result([(k, "REVIEW", "20461;20462", "") for k in line_ids])

    with engine.begin() as conn:
        run_id = _started(conn)
        rows = [_line("165000", None, k, desc=f"TRSF {k}") for k in range(1, 4)]
        stored = _import(conn, run_id, rows, sha="a")
        ids = sorted(stored.new_line_ids)
        first = persist_match(conn, run_id=run_id, result=result(ids[:2]), now=NOW)
        again = persist_match(conn, run_id=run_id, result=result(ids), now=NOW)
        active = conn.execute(
            select(db.decisions.c.bank_line_id).where(db.decisions.c.active.is_(True))
        ).all()
    assert (first["decisions"], again["decisions"]) == (2, 1)
    assert sorted(r[0] for r in active) == ids


def _proposals(conn: Connection) -> set[tuple[int, str]]:
    """(line id, invoice number) of every proposal row, through its decision."""
    p, d = db.decision_proposals.c, db.decisions.c
    joined = db.decision_proposals.join(db.decisions, d.id == p.decision_id)
    return {
        (int(r[0]), r[1])
        for r in conn.execute(select(d.bank_line_id, p.invoice_no).select_from(joined))
    }


def test_open_decisions_record_what_they_propose_and_rivals_are_found_by_it(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        l1, l2, l3, l4 = _line_ids_of_imported(conn, 4)
        run_id = conn.execute(select(func.max(db.runs.c.id))).scalar_one()  # the import's
        persist_match(conn, run_id=run_id, now=NOW, result=_match_result([
            (l1, "REVIEW", "20461;20462", ""), (l2, "MATCHED", "", "20470"),
            (l3, "UNMATCHED", "", ""), (l4, "REVIEW", "20463;20464", "20463"),
        ]))  # fmt: skip
        # a MATCHED line is not open: what it was matched to is no proposal
        assert _proposals(conn) == {(l1, "20461"), (l1, "20462"), (l4, "20463"), (l4, "20464")}
        assert credits_proposing(conn, ["20462", "20470", "20464", "20999"]) == [l1, l4]
        assert credits_proposing(conn, ["20461"], decided_before=run_id) == []
        assert credits_proposing(conn, ["20461"], decided_before=run_id + 1) == [l1]
        # l1 decided again: its earlier decision, now inactive, proposes nothing any more
        persist_match(conn, run_id=run_id, now=NOW, result=_match_result([(l1, "MATCHED", "", "20461")]))  # fmt: skip
        assert credits_proposing(conn, ["20461", "20462", "20463"]) == [l4]


def test_upgrade_records_the_proposals_of_the_decisions_already_stored(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0002")  # the schema before decision_proposals
    with engine.begin() as conn:
        l1, l2, l3 = _line_ids_of_imported(conn, 3)

        def decision(
            line: int, status: str, candidates: str, invoice_nos: str, **more: object
        ) -> dict[str, object]:
            return {
                "run_id": 1, "bank_line_id": line, "status": status, "rule": "name_amount",
                "score": 60, "signals": "{}", "reason": "", "codes": "", "invoice_nos": invoice_nos,
                "confirmation_ids": "", "candidates": candidates, "decided_by": "auto",
                "active": True, "created_at": NOW, **more,
            }  # fmt: skip

        conn.execute(insert(db.decisions), [
            decision(l1, "REVIEW", "20461;20462", "20461"),
            decision(l2, "REVIEW", "20499", "", active=False),  # superseded
            decision(l2, "MATCHED", "", "20470"),
            decision(l3, "REVIEW", "20498", "", decided_by="ani@finance"),  # a person's
        ])  # fmt: skip
    upgrade(engine)
    with engine.connect() as conn:
        assert _proposals(conn) == {(l1, "20461"), (l1, "20462")}
        assert credits_proposing(conn, ["20462"]) == [l1]


def _open_book(conn: Connection) -> tuple[int, int, int, int]:
    """Four credit lines: REVIEW and UNMATCHED decided automatically, one MATCHED, one REVIEW
    a person decided (never reopened); their ids."""
    l1, l2, l3, l4 = _line_ids_of_imported(conn, 4)
    run_id = conn.execute(select(func.max(db.runs.c.id))).scalar_one()
    persist_match(conn, run_id=run_id, now=NOW, result=_match_result([
        (l1, "REVIEW", "20461;20462", ""), (l2, "MATCHED", "", "20470"),
        (l3, "UNMATCHED", "", ""), (l4, "REVIEW", "20463;20464", ""),
    ]))  # fmt: skip
    d = db.decisions.c
    conn.execute(db.decisions.update().where(d.bank_line_id == l4).values(active=False))
    conn.execute(insert(db.decisions), [{
        "run_id": run_id, "bank_line_id": l4, "status": "REVIEW", "rule": "manual", "score": 0,
        "signals": "{}", "reason": "asked the client", "codes": "", "invoice_nos": "",
        "confirmation_ids": "", "candidates": "20463", "decided_by": "ani@finance",
        "active": True, "created_at": NOW,
    }])  # fmt: skip
    return l1, l2, l3, l4


def test_open_credits_exclude_matched_lines_and_those_a_person_decided(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        l1, l2, l3, l4 = _open_book(conn)
        every = load_credits(conn)  # the whole open book, as a first run reads it
        some = load_credits(conn, line_ids=[l1, l2, l3, l4])  # a few, looked up line by line
        assert count_open_credits(conn) == 2
    assert every["line_id"].tolist() == some["line_id"].tolist() == [l1, l3]
    assert every["candidates"].tolist() == ["20461;20462", ""]
    assert every["amount_sen"].tolist() == [100_000, 100_200]


def test_a_match_persisted_over_a_line_a_person_decided_meanwhile_writes_nothing_for_it(
    db_url: str,
) -> None:
    """The match read l4 as open, then a person decided it: persisting the match keeps the
    person's decision in force and writes neither the automatic decision, its allocation, the
    invoice it would pay nor the confirmation it would fund; l1 is written as decided."""
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        l1, _l2, _l3, l4 = _open_book(conn)
        run_id = conn.execute(select(func.max(db.runs.c.id))).scalar_one()
        conn.execute(insert(db.invoices), [{
            "invoice_no": no, "amount": Decimal("1002.00"), "source_status": "Unpaid",
            "status": "OPEN", "amount_received": Decimal("0.00"),
        } for no in ("20463", "20461")])  # fmt: skip
        conn.execute(insert(db.confirmations), [{
            "ticket_id": "481600", "intake_status": "VALID", "status": "AWAITING_FUNDS",
            "reason": "waiting for the money to arrive",
        }])  # fmt: skip
        decided = _match_result([(l1, "MATCHED", "", "20461"), (l4, "MATCHED", "", "20463")])
        decided = replace(
            decided,
            allocations=pd.DataFrame(
                {"line_id": [l1, l4], "invoice_no": ["20461", "20463"],
                 "amount_sen": [100_200, 100_200]}
            ),
            invoices=pd.DataFrame(
                {"invoice_no": ["20461", "20463"], "status": ["PAID", "PAID"],
                 "received_sen": [100_200, 100_200], "codes": ["", ""],
                 "reason": ["paid", "paid"]}
            ),
            confirmations=pd.DataFrame(
                {"ticket_id": ["481600"], "status": ["MATCHED"], "codes": [""],
                 "line_ids": [str(l4)], "reason": [f"funds on line {l4}"]}
            ),
        )  # fmt: skip
        stats = persist_match(conn, run_id=run_id, result=decided, now=NOW)
        d, a = db.decisions.c, db.allocations.c
        active = {
            r.bank_line_id: (r.status, r.invoice_nos, r.decided_by, r.reason)
            for r in conn.execute(select(db.decisions).where(d.active.is_(True)))
        }
        allocations = conn.execute(
            select(a.bank_line_id, a.invoice_no, a.amount).where(a.active.is_(True))
        ).all()
        invoices = {
            r.invoice_no: (r.status, r.amount_received) for r in conn.execute(select(db.invoices))
        }
        conf = conn.execute(select(db.confirmations.c.status, db.confirmations.c.line_ids)).one()
        line_status = conn.execute(
            select(db.bank_lines.c.status).where(db.bank_lines.c.id == l4)
        ).scalar_one()
    assert stats["decisions"] == 1 and stats["allocations"] == 1
    assert active[l4] == ("REVIEW", "", "ani@finance", "asked the client")
    assert active[l1] == ("MATCHED", "20461", "auto", "amount exact")
    assert [tuple(r) for r in allocations] == [(l1, "20461", Decimal("1002.00"))]
    assert invoices == {
        "20461": ("PAID", Decimal("1002.00")),
        "20463": ("OPEN", Decimal("0.00")),
    }
    assert tuple(conf) == ("AWAITING_FUNDS", "")
    assert line_status == "REVIEW"


def test_postgresql_plans_the_open_book_as_an_anti_join_whatever_its_statistics(
    postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NOT IN (subquery) would be a subplan per line, unhashed on stale statistics: the count
    of 450k open lines of a million took 366 s that way, 1.8 s as an anti join."""
    from reconcile import sqlframes

    asked: list[tuple[str, Any]] = []

    def capture(_c: object, _cur: object, sql: str, params: Any, *_: object) -> None:
        if "by_person" in sql:
            asked.append((sql, params))

    def statement(stmt: Any, dialect: Any) -> tuple[str, Any]:  # frames bypass SQLAlchemy
        sql, params = driver_statement(stmt, dialect)
        capture(None, None, sql, params)
        return sql, params

    driver_statement = sqlframes.driver_statement
    monkeypatch.setattr(sqlframes, "driver_statement", statement)
    engine = make_engine(postgresql_url)
    upgrade(engine)
    with engine.begin() as conn:
        _open_book(conn)
        event.listen(engine, "before_cursor_execute", capture)
        count_open_credits(conn)
        event.remove(engine, "before_cursor_execute", capture)
        load_credits(conn)
        plans = [
            "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql, params))
            for sql, params in asked
        ]
    engine.dispose()
    assert len(plans) == 2  # the count, and the read of every open credit
    for plan in plans:
        assert "Anti Join" in plan, plan
        assert "SubPlan" not in plan, plan


def _line_ids_of_imported(conn: Connection, count: int) -> list[int]:
    """``count`` credit lines imported in one file; their ids in file order."""
    return _imported(
        conn, [_line(f"{1000 + k}.00", None, 5 + k, desc=f"D{k}") for k in range(count)]
    )


def _imported(conn: Connection, rows: list[Transaction]) -> list[int]:
    """``rows`` imported as one statement file; their line ids in file order."""
    run_id = _started(conn)
    _import(conn, run_id, rows)
    c = db.bank_lines.c
    return [r[0] for r in conn.execute(select(c.id).order_by(c.source_line))]


def test_update_columns_by_shared_values_and_row_by_row_write_the_same(db_url: str) -> None:
    from reconcile.store import update_columns

    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        ids = _line_ids_of_imported(conn, 250)
        c = db.bank_lines.c
        # two sets of values for 250 rows: one UPDATE ... IN per set
        statuses = ["REVIEW"] * 240 + ["UNMATCHED"] * 10
        update_columns(conn, db.bank_lines, "id", {"id": ids, "status": statuses})
        # a value per row: one statement per row
        update_columns(
            conn, db.bank_lines, "id", {"id": ids, "counterparty": [f"P{k}" for k in range(250)]}
        )
    with engine.connect() as conn:
        got = conn.execute(select(c.status, c.counterparty).order_by(c.source_line)).all()
    assert [tuple(r) for r in got] == [(s, f"P{k}") for k, s in enumerate(statuses)]


def test_update_columns_joined_on_many_rows_writes_as_row_by_row(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many rows of distinct values (one UPDATE joined on a temporary table on PostgreSQL and
    MariaDB, UPDATE … FROM (VALUES …) seven rows at a time here on SQLite): a constant column,
    money, and a key given twice (its last row wins)."""
    from reconcile import store

    monkeypatch.setattr(store, "JOINED_UPDATE_MIN", 50)
    monkeypatch.setattr(store, "SQLITE_MAX_BOUND", 22)  # (22 - 1 constant) // 3 columns
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        ids = _line_ids_of_imported(conn, 120)
        c = db.bank_lines.c
        for _ in range(2):  # a second time over the same connection: the temporary table is new
            store.update_columns(
                conn,
                db.bank_lines,
                "id",
                {
                    "id": [*ids, ids[0]],
                    "counterparty": [f"P{k}" for k in range(120)] + ["LAST"],
                    "balance": [Decimal(k) / 100 for k in range(121)],
                    "bank_ref": "R",
                },
            )
    with engine.connect() as conn:
        got = conn.execute(
            select(c.counterparty, c.balance, c.bank_ref).order_by(c.source_line)
        ).all()
    want = [(f"P{k}", Decimal(k) / 100, "R") for k in range(120)]
    want[0] = ("LAST", Decimal("1.20"), "R")
    assert [tuple(r) for r in got] == want


def test_mariadb_first_migration_killed_halfway_is_started_over(mariadb_url: str) -> None:
    """MariaDB commits each CREATE TABLE at once: a first run killed while creating the schema
    leaves tables and no revision; the next run's migration must not stop at them for ever."""
    engine = make_engine(mariadb_url)
    db.metadata.create_all(engine, tables=[db.accounts, db.runs, db.statement_files])
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) >= set(db.metadata.tables)
    engine.dispose()


def test_mariadb_half_migrated_tables_holding_rows_are_never_dropped(mariadb_url: str) -> None:
    from reconcile.errors import ReconcileError

    engine = make_engine(mariadb_url)
    db.metadata.create_all(engine, tables=[db.accounts, db.runs])
    with engine.begin() as conn:
        conn.execute(insert(db.accounts), [{"account_no": "0372543386", "bank": "bca",
                                            "holder": "Erna Kurniati"}])  # fmt: skip
    with pytest.raises(ReconcileError, match="Tables holding rows: accounts;"):
        upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(select(db.accounts.c.account_no)).scalars().all() == ["0372543386"]
    engine.dispose()


def test_statements_cover_each_account_up_to_their_latest_period_end(db_url: str) -> None:
    """The period each imported statement file covers (``validate`` fills a period the export
    does not print from its rows), per account: the latest end."""
    from reconcile.store import statements_until

    def statement(end: date, line: int, account: str = "0372543386") -> list[Statement]:
        rows = [_line(f"{1000 + line}.00", None, line, desc=f"D{line}", posted=end)]
        return [Statement(bank="bca", layout="bca_klikbca_individual", account_no=account,
                          transactions=rows, period_start=date(2026, 3, 2), period_end=end)]  # fmt: skip

    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        assert statements_until(conn) == {}
        run_id = _started(conn)
        for k, (end, account) in enumerate([
            (date(2026, 3, 6), "0372543386"), (date(2026, 3, 4), "0372543386"),
            (date(2026, 3, 9), "002901124296507"),
        ]):  # fmt: skip
            import_statements(
                conn, run_id=run_id, file_name=f"{k}.csv", sha256=str(k) * 64,
                layout="bca_klikbca_individual", statements=statement(end, 5 + k, account), now=NOW,
            )  # fmt: skip
        assert statements_until(conn) == {
            "0372543386": date(2026, 3, 6), "002901124296507": date(2026, 3, 9)}  # fmt: skip
    engine.dispose()


SWEPT = "BI-FAST CR TRANSFER DR 009 DEWI LESTARI"


def _monthly(day: date, line: int = 2) -> Transaction:
    """Dewi's Rp 443.500 on an account swept back to Rp 1.000.000 each month: the same amount,
    text and balance after it every time."""
    return _line("443500.00", "1443500.00", line, SWEPT, posted=day)


def test_same_payment_a_month_later_with_the_balance_back_where_it_was_is_a_new_line(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        run_id = _started(conn)
        feb = _import(conn, run_id, [_monthly(date(2026, 2, 2))], file_name="feb.csv", sha="1")
        mar = _import(conn, run_id, [_monthly(date(2026, 3, 2))], file_name="mar.csv", sha="2")
        mar_again = _import(
            conn, run_id, [_monthly(date(2026, 3, 2), line=7)], file_name="mar2.csv", sha="3"
        )
        feb_again = _import(conn, run_id, [_monthly(date(2026, 2, 2))], file_name="f.csv", sha="4")
        b = db.bank_lines.c
        stored = conn.execute(
            select(b.id, b.posted_on, b.amount, b.occurrence).order_by(b.id)
        ).all()
    assert (len(feb.new_line_ids), len(mar.new_line_ids)) == (1, 1)
    assert [(r.posted_on, r.amount, r.occurrence) for r in stored] == [
        (date(2026, 2, 2), Decimal("443500.00"), 1),
        (date(2026, 3, 2), Decimal("443500.00"), 2),
    ]
    assert mar_again.new_line_ids == [] and mar_again.duplicates == [(7, stored[1].id)]
    assert feb_again.new_line_ids == [] and feb_again.duplicates == [(2, stored[0].id)]


def test_pending_row_is_not_the_same_text_posted_weeks_after_its_initiation(db_url: str) -> None:
    """A PEND row initiated on 4 March is posted within days; the same amount, text and balance
    posted on 20 April is another transfer. Its own posting (5 March) resolves it, and the
    PEND export read again afterwards adds nothing."""
    from dataclasses import replace

    engine = make_engine(db_url)
    upgrade(engine)
    desc = "TRSF E-BANKING CR 0403/FTSCY/WS95031 350000.00 AGUS PRASETYO"
    pend = replace(
        _line("350000.00", "17590000.00", 9, desc, posted=None), initiated_on=date(2026, 3, 4)
    )
    with engine.begin() as conn:
        run_id = _started(conn)
        a = _import(conn, run_id, [pend], sha="4", layout="x")
        april = _import(
            conn, run_id, [_line("350000.00", "17590000.00", 3, desc, posted=date(2026, 4, 20))],
            file_name="apr.csv", sha="5", layout="x",
        )  # fmt: skip
        march = _import(
            conn, run_id, [_line("350000.00", "17590000.00", 6, desc, posted=date(2026, 3, 5))],
            file_name="b.csv", sha="6", layout="x",
        )  # fmt: skip
        again = _import(conn, run_id, [pend], file_name="pend2.csv", sha="7", layout="x")
        b = db.bank_lines.c
        stored = conn.execute(select(b.id, b.posted_on, b.pending).order_by(b.id)).all()
    assert len(april.new_line_ids) == 1
    assert march.new_line_ids == [] and march.duplicates == [(6, a.new_line_ids[0])]
    assert again.new_line_ids == [] and again.duplicates == [(9, a.new_line_ids[0])]
    assert [(r.posted_on, r.pending) for r in stored] == [
        (date(2026, 3, 5), False),
        (date(2026, 4, 20), False),
    ]
