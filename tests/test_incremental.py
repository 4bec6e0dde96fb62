"""The quick start, then the next runs: each decides its new lines and what new evidence reaches,
nothing else; a confirmation arriving later settles the credit it names."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from reconcile import db, pipeline, store
from reconcile.config import load_rules
from reconcile.pipeline import RunOptions, run

ROOT = Path(__file__).resolve().parent.parent


def _options(tmp_path: Path) -> RunOptions:
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    rules = load_rules(tmp_path / "rules.yaml")
    assert rules.as_of is not None
    return RunOptions(
        rules=rules,
        inbox=tmp_path / "sample_data" / "inbox",
        out=tmp_path / "var" / "reports",
        db_url=f"sqlite:///{tmp_path / 'var' / 'reconcile.db'}",
        as_of=rules.as_of,
        invoices=tmp_path / "sample_data" / "invoices.csv",
        confirmations=tmp_path / "sample_data" / "confirmations.csv",
        keep_inbox=True,
    )


def _bca_export(opts: RunOptions, day: str, amount: str, remark: str) -> None:
    """A BCA export of one credit of ``amount`` with ``remark`` on ``day`` (dd/mm/yyyy) in the
    inbox: the statements then cover that day."""
    start = Decimal("22198500.00")
    end = start + Decimal(amount)
    d, m, y = day.split("/")
    (opts.inbox / f"BCA_0372543386_{y}-{m}-{d}_{y}-{m}-{d}.csv").write_text(
        "Account No.,=,'0372543386\nName,=,RINA WULANDARI      \nCurrency,=,IDR\n\n"
        "Date,Description,Branch,Amount,,Balance\n"
        f"'{day},TRSF E-BANKING CR {d}{m}/FTSCY/WS95031 {amount}{remark},"
        f"'0000,{amount},CR,{end}\n\n"
        f"Starting Balance,=,{start}\nCredit,=,{amount}\nDebet,=,0.00\n"
        f"Ending Balance,=,{end}\n",
        encoding="utf-8",
    )


def _next_day_credit(opts: RunOptions, amount: str, remark: str) -> None:
    """The next day's BCA export in the inbox: one credit of ``amount`` with ``remark``."""
    _bca_export(opts, "10/03/2026", amount, remark)


def _rows(opts: RunOptions) -> list[dict[str, str]]:
    with (opts.out / "bank_lines.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _line(opts: RunOptions, line_id: int) -> dict[str, str]:
    """The line's row in bank_lines.csv: the decision when the run made one, else as it saw it."""
    with (opts.out / "bank_lines.csv").open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["line_id"] == str(line_id)][-1]


def _decision_runs(opts: RunOptions) -> dict[int, int]:
    engine = store.make_engine(opts.db_url)
    with engine.connect() as conn:
        d = db.decisions.c
        rows = conn.execute(select(d.bank_line_id, d.run_id).where(d.active.is_(True))).all()
    engine.dispose()
    return {int(line): int(run_id) for line, run_id in rows}


def test_second_run_over_unchanged_inputs_decides_nothing_again(tmp_path: Path) -> None:
    opts = _options(tmp_path)
    first = run(opts)
    second = run(opts)
    assert first.counts["lines_considered"] == 14  # the credits of the sample statements
    assert (second.counts["lines_considered"], second.counts["decisions_written"]) == (0, 0)
    assert second.counts["lines_left_as_decided"] == 4  # still open: REVIEW or UNMATCHED


def test_confirmation_arriving_later_settles_the_ambiguous_credit_and_only_that(
    tmp_path: Path,
) -> None:
    opts = _options(tmp_path)
    run(opts)
    ambiguous = _line(opts, 13)
    assert (ambiguous["status"], ambiguous["codes"]) == ("REVIEW", "AMBIGUOUS")
    before = _decision_runs(opts)
    with opts.confirmations.open("a", encoding="utf-8", newline="") as fh:  # type: ignore[union-attr]
        csv.writer(fh).writerow(
            ["481560", "2026-03-06 19:30:00", "Bambang Irawan", "bambang.irawan@example.com",
             "Konfirmasi", "Billing", "", "sudah tf", "#20462", "bca", "Rp 165.000",
             ambiguous["posted_on"], ambiguous["counterparty"], ""]
        )  # fmt: skip

    second = run(opts)

    assert second.counts["lines_considered"] == 1
    settled = _line(opts, 13)
    assert (settled["status"], settled["invoice_nos"], settled["confirmation_ids"]) == (
        "MATCHED", "20462", "481560")  # fmt: skip
    after = _decision_runs(opts)
    assert after[13] == second.run_id
    assert {k: v for k, v in after.items() if k != 13} == {
        k: v for k, v in before.items() if k != 13
    }


def test_changed_matching_rules_decide_every_open_credit_again(tmp_path: Path) -> None:
    """Nothing new arrives, but an over-payment tolerance of Rp 50.000 now covers LINA
    MARLINA's Rp 350.000 for invoice 20480 (Rp 300.000): every open credit is decided again
    under the new rules, and hers is paid; the matched lines keep their first decisions."""
    from reconcile.config import Tolerance

    opts = _options(tmp_path)
    run(opts)
    assert (_line(opts, 7)["status"], _line(opts, 7)["amount"]) == ("REVIEW", "350000.00")
    tolerant = opts.rules.matching.model_copy(
        update={"overpaid_tolerance": Tolerance(absolute=50000, percent=0)}
    )
    again = run(replace(opts, rules=opts.rules.model_copy(update={"matching": tolerant})))

    assert again.counts["lines_considered"] == 4  # every credit still open: 2, 7, 12, 13
    assert (again.counts["decisions_written"], again.counts["invoices_paid"]) == (1, 1)
    line = _line(opts, 7)
    assert (line["status"], line["codes"], line["invoice_nos"]) == (
        "MATCHED", "OVERPAID;CONFIRMATION_AMOUNT_MISMATCH", "20480")  # fmt: skip
    assert line["reason"].startswith("amount Rp 50.000 over (within tolerance); invoice #20480")
    runs = _decision_runs(opts)
    assert runs.pop(7) == again.run_id
    assert set(runs.values()) == {1}  # the others were decided again to the same decision


def test_new_line_quoting_an_invoice_an_earlier_run_paid_is_a_duplicate_payment(
    tmp_path: Path,
) -> None:
    """An incremental run reads only the invoices still matchable, and the closed ones its
    credits name: the number quoted brings the paid invoice back into the book."""
    opts = _options(tmp_path)
    run(opts)
    with (opts.out / "bank_lines.csv").open(encoding="utf-8", newline="") as fh:
        paying = [r["status"] for r in csv.DictReader(fh) if r["invoice_nos"] == "20431"]
    assert paying == ["MATCHED"]
    _next_day_credit(opts, "1500000.00", "INV 20431 BUDI SANTOSO")

    second = run(opts)

    assert (second.counts["lines_new"], second.counts["lines_considered"]) == (1, 1)
    engine = store.make_engine(opts.db_url)
    with engine.connect() as conn:
        b, d = db.bank_lines.c, db.decisions.c
        new_id = conn.execute(select(func.max(b.id))).scalar_one()
        row = conn.execute(
            select(d.status, d.codes, d.invoice_nos)
            .where(d.bank_line_id == new_id)
            .where(d.active.is_(True))
        ).one()
        paid = conn.execute(
            select(db.invoices.c.amount_received).where(db.invoices.c.invoice_no == "20431")
        ).scalar_one()
    engine.dispose()
    assert (row.status, row.invoice_nos) == ("REVIEW", "20431")
    assert "DUPLICATE_PAYMENT" in row.codes.split(";")
    assert paid == Decimal("1500000.00")  # paid once, not twice


def test_new_credit_contesting_an_earlier_ambiguous_credit_decides_both(tmp_path: Path) -> None:
    """The earlier credit proposing the invoices a new one can claim is found through the
    proposals its decision recorded (decision_proposals), and decided again with it."""
    opts = _options(tmp_path)
    run(opts)
    earlier = _line(opts, 13)
    assert (earlier["status"], earlier["amount"], earlier["counterparty"]) == (
        "REVIEW", "165000.00", "PUTRI AYU")  # fmt: skip
    assert "#20461, #20462" in earlier["reason"]
    _next_day_credit(opts, "165000.00", "PUTRI AYU")

    second = run(opts)

    assert (second.counts["lines_new"], second.counts["lines_considered"]) == (1, 2)
    assert second.counts["lines_left_as_decided"] == 3  # lines 2, 7 and 12: nothing contests them
    engine = store.make_engine(opts.db_url)
    with engine.connect() as conn:
        b = db.bank_lines.c
        new_id = conn.execute(select(func.max(b.id))).scalar_one()
    engine.dispose()
    considered = {
        r["line_id"]: (r["status"], r["codes"], r["reason"])
        for r in _rows(opts)
        if r["status"] != "DUPLICATE"
    }
    tie = ("REVIEW", "AMBIGUOUS", "2 invoices fit equally well (score 55): #20461, #20462")
    assert considered == {"13": tie, str(new_id): tie}


def test_lines_imported_before_an_undo_are_still_new_to_the_next_run(tmp_path: Path) -> None:
    """An undo restores an automatic decision in its own run; that run matched nothing, so
    the lines imported before it (``reconcile import``, no match) are new to the next run, an
    incremental one (it had been taken for a matching run with other rules: all decided again)."""
    from reconcile.review import undo_decision

    opts = _options(tmp_path)
    run(opts)
    _next_day_credit(opts, "2000000.00", "JOKO SUSILO")
    imported = run(replace(opts, command="import", load_sources=False, match=False,
                           write_reports=False))  # fmt: skip
    assert imported.counts["lines_new"] == 1
    engine = store.make_engine(opts.db_url)
    with engine.connect() as conn:
        d, b = db.decisions.c, db.bank_lines.c
        new_id = conn.execute(select(func.max(b.id))).scalar_one()
        first = conn.execute(
            select(d.id).where(d.bank_line_id == 1, d.active.is_(True))
        ).scalar_one()
    undone = undo_decision(engine, first, actor="rina", rules=opts.rules.matching, as_of=opts.as_of)
    assert undone.refused == []

    after = run(opts)

    with engine.connect() as conn:
        decided = conn.execute(
            select(d.run_id).where(d.bank_line_id == new_id, d.active.is_(True))
        ).scalar_one_or_none()
    engine.dispose()
    # the import's line alone: the undo run is no matching run, nothing else changed since
    assert (after.counts["lines_considered"], after.counts["lines_left_as_decided"]) == (1, 5)
    assert decided == after.run_id


def _confirmation(opts: RunOptions, ticket: str) -> tuple[str, str, str]:
    with (opts.out / "confirmations.csv").open(encoding="utf-8", newline="") as fh:
        [row] = [r for r in csv.DictReader(fh) if r["ticket_id"] == ticket]
    return row["status"], row["codes"], row["reason"]


def test_no_funds_is_said_only_once_the_statements_cover_the_deadline(tmp_path: Path) -> None:
    """Months later, a confirmation's deadline has long passed, but no BCA statement reaches
    it yet: the money may be on the next export, so it waits. The Mandiri transfer confirmed
    for 2 March, whose statements run to 6 March, is NO_FUNDS. Once a BCA export covering
    11 March arrives without Yanti's money, hers is NO_FUNDS too."""
    opts = replace(_options(tmp_path), as_of=date(2026, 12, 1))
    run(opts)
    assert _confirmation(opts, "481530") == (
        "AWAITING_FUNDS", "", "waiting for statements of account 0372543386 through 2026-03-11")  # fmt: skip
    assert _confirmation(opts, "481531") == (
        "NO_FUNDS", "CONFIRMATION_WITHOUT_FUNDS", "no money 2 banking days after the confirmed date")  # fmt: skip
    _bca_export(opts, "11/03/2026", "275000.00", " AGUS WIBOWO")

    run(opts)

    assert _confirmation(opts, "481530") == (
        "NO_FUNDS", "CONFIRMATION_WITHOUT_FUNDS", "no money 2 banking days after the confirmed date")  # fmt: skip


def _csv(opts: RunOptions, name: str) -> list[dict[str, str]]:
    with (opts.out / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_run_with_nothing_new_reads_no_invoice_and_still_moves_the_confirmations_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run every 15 minutes of a day with no new export decides no credit, so it reads no
    invoice. Its confirmations are still decided: months later Yanti's BCA transfer waits for
    the statements through 11 March. The same run deciding from the whole book writes the same
    reports."""
    opts = _options(tmp_path)
    run(opts)
    assert _confirmation(opts, "481530") == (
        "AWAITING_FUNDS", "", "waiting for the money to arrive")  # fmt: skip
    shutil.copytree(tmp_path / "var", tmp_path / "whole")
    later = replace(opts, as_of=date(2026, 12, 1))
    read: list[dict[str, object]] = []
    real = store.load_invoices

    def spy(conn: object, **kw: object) -> object:
        read.append(kw)
        return real(conn, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "load_invoices", spy)

    quiet = run(later)

    assert read == [{"numbers": [], "matchable_since": 1}]
    assert (quiet.counts["lines_considered"], quiet.counts["lines_left_as_decided"]) == (0, 4)
    assert _confirmation(opts, "481530") == (
        "AWAITING_FUNDS", "", "waiting for statements of account 0372543386 through 2026-03-11")  # fmt: skip
    monkeypatch.setattr(store, "load_invoices", real)
    monkeypatch.setattr(pipeline, "_nothing_new", lambda *args: False)
    whole = replace(
        later, db_url=f"sqlite:///{tmp_path / 'whole' / 'reconcile.db'}", out=tmp_path / "out"
    )
    run(whole)
    for name in ("bank_lines.csv", "invoices.csv", "confirmations.csv"):
        assert _csv(whole, name) == _csv(later, name), name


def _quiet(opts: RunOptions) -> bool:
    """Whether the next run would find nothing new since the last matching run."""
    engine = store.make_engine(opts.db_url)
    with engine.connect() as conn:
        mark = store.last_match(conn)
        assert mark is not None
        quiet = pipeline._nothing_new(conn, store.load_aliases(conn), mark)
    engine.dispose()
    return quiet


def _sources_only(opts: RunOptions) -> RunOptions:
    return replace(opts, command="import", match=False, write_reports=False)


def _add_statement_line(opts: RunOptions) -> None:
    _next_day_credit(opts, "2000000.00", "JOKO SUSILO")
    run(replace(_sources_only(opts), load_sources=False))


def _add_invoice(opts: RunOptions) -> None:
    with opts.invoices.open("a", encoding="utf-8", newline="") as fh:  # type: ignore[union-attr]
        csv.writer(fh).writerow(
            ["20499", "Joko Susilo", "", "joko@example.com", "2026-03-09", "2026-03-16",
             "2000000.00", "Unpaid"]
        )  # fmt: skip
    run(_sources_only(opts))


def _add_confirmation(opts: RunOptions) -> None:
    with opts.confirmations.open("a", encoding="utf-8", newline="") as fh:  # type: ignore[union-attr]
        csv.writer(fh).writerow(
            ["481561", "2026-03-09 10:00:00", "Joko Susilo", "joko@example.com", "Konfirmasi",
             "Billing", "", "sudah tf", "#20431", "bca", "Rp 2.000.000", "2026-03-09",
             "JOKO SUSILO", ""]
        )  # fmt: skip
    run(_sources_only(opts))


def _add_alias_by_a_person(opts: RunOptions) -> None:
    from reconcile.review import _learn_alias

    engine = store.make_engine(opts.db_url)
    with engine.begin() as conn:
        assert _learn_alias(conn, "JOKO SUSILO", "budi.santoso@example.com", "rina", datetime.now())
    engine.dispose()


@pytest.mark.parametrize(
    "change", [_add_statement_line, _add_invoice, _add_confirmation, _add_alias_by_a_person]
)
def test_anything_new_since_the_last_match_makes_the_run_decide(
    tmp_path: Path, db_url: str, change: Callable[[RunOptions], None]
) -> None:
    opts = replace(_options(tmp_path), db_url=db_url)
    run(opts)
    assert _quiet(opts)

    change(opts)

    assert not _quiet(opts)


def test_credit_decided_before_the_last_match_proposing_an_invoice_it_changed_is_not_quiet(
    tmp_path: Path, db_url: str
) -> None:
    """Line 13 (REVIEW, proposing invoices 20461 and 20462) was decided by the first run. Had
    the second matching run changed invoice 20462, line 13 would be decided again (and
    nothing else that run changed or learned reaches it)."""
    opts = replace(_options(tmp_path), db_url=db_url)
    run(opts)
    second = run(replace(opts, as_of=date(2026, 3, 10)))
    assert second.counts["lines_considered"] == 0
    assert _quiet(opts)
    engine = store.make_engine(opts.db_url)
    with engine.begin() as conn:
        i = db.invoices.c
        conn.execute(update(db.invoices).where(i.invoice_no == "20462").values(
            updated_run_id=second.run_id))  # fmt: skip
        assert store.credits_proposing(conn, ["20462"], decided_before=second.run_id) == [13]
    engine.dispose()

    assert not _quiet(opts)


def _swept_bca_month(opts: RunOptions, month: int) -> None:
    """A month's BCA export: Dewi's Rp 443.500 by BI-FAST (no date in its text), then the sweep
    of the account back to Rp 1.000.000: every month the same amounts, texts and balances."""
    rows = [
        f"'02/{month:02d}/2026,BI-FAST CR TRANSFER   DR 009 DEWI LESTARI      ,'0000,443500.00,CR,1443500.00",
        f"'27/{month:02d}/2026,TRSF E-BANKING DB SWEEP KE 1370010136428,'0000,443500.00,DB,1000000.00",
    ]  # fmt: skip
    (opts.inbox / f"BCA_0372543386_2026-{month:02d}.csv").write_text(
        "Account No.,=,'0372543386\nName,=,RINA WULANDARI      \nCurrency,=,IDR\n\n"
        "Date,Description,Branch,Amount,,Balance\n" + "\n".join(rows) + "\n\n"
        "Starting Balance,=,1000000.00\nCredit,=,443500.00\nDebet,=,443500.00\n"
        "Ending Balance,=,1000000.00\n",
        encoding="utf-8",
    )


def test_monthly_payment_into_a_swept_account_is_stored_every_month(tmp_path: Path) -> None:
    """The January and February exports hold the same rows but for their dates; the February
    export dropped in again, renamed, adds nothing."""
    opts = _options(tmp_path)
    for old in opts.inbox.iterdir():
        old.unlink()
    imports = replace(opts, command="import", load_sources=False, match=False,
                      write_reports=False, keep_inbox=False)  # fmt: skip
    _swept_bca_month(opts, 1)
    jan = run(imports)
    _swept_bca_month(opts, 2)
    feb = run(imports)
    _swept_bca_month(opts, 2)
    (opts.inbox / "BCA_0372543386_2026-02.csv").rename(opts.inbox / "mutasi_februari.csv")
    again = run(imports)

    assert [(r.counts["lines_new"], r.counts["lines_duplicate"]) for r in (jan, feb, again)] == [
        (2, 0), (2, 0), (0, 2)]  # fmt: skip
    engine = store.make_engine(opts.db_url)
    with engine.connect() as conn:
        b = db.bank_lines.c
        credits = conn.execute(
            select(b.posted_on, b.amount).where(b.direction == "CR").order_by(b.id)
        ).all()
    engine.dispose()
    assert credits == [
        (date(2026, 1, 2), Decimal("443500.00")),
        (date(2026, 2, 2), Decimal("443500.00")),
    ]


def test_invoice_cancelled_after_its_payment_sends_the_money_back_to_review(
    tmp_path: Path, db_url: str
) -> None:
    """Line 5 (CV Sumber Rejeki's Rp 3.300.000) paid invoice 20465 by name and amount; then
    the billing system cancels 20465 and re-issues 20431 (paid Rp 1.500.000) at Rp 1.650.000.
    The payment of 20465 is withdrawn and line 5 goes to review, named; 20431 is partly paid."""
    opts = replace(_options(tmp_path), db_url=db_url)
    run(opts)
    assert (_line(opts, 5)["status"], _line(opts, 5)["invoice_nos"]) == ("MATCHED", "20465")
    assert opts.invoices is not None
    opts.invoices.write_text(
        opts.invoices.read_text(encoding="utf-8")
        .replace("2026-03-04,1500000.00,Unpaid", "2026-03-04,1650000.00,Unpaid")
        .replace("3300000.00,Unpaid", "3300000.00,Cancelled"),
        encoding="utf-8",
    )

    second = run(opts)

    line = _line(opts, 5)
    assert (line["status"], line["codes"], line["invoice_nos"], line["reason"]) == (
        "REVIEW", "PAYMENT_ON_CLOSED_INVOICE", "",
        "invoice #20465 it paid was cancelled in the billing system: refund it or assign it "
        "to another invoice")  # fmt: skip
    invoices = {r["invoice_no"]: r for r in _csv(opts, "invoices.csv")}
    got = {no: (r["status"], r["amount_due"], r["amount_received"], r["codes"], r["reason"])
           for no, r in invoices.items() if no in ("20431", "20465")}  # fmt: skip
    assert got == {
        "20431": ("PARTIAL", "1650000.00", "1500000.00", "",
                  "partly paid; Rp 150.000 outstanding since the billing system changed its "
                  "amount to Rp 1.650.000"),
        "20465": ("CANCELLED", "3300000.00", "0.00", "PAYMENT_ON_CLOSED_INVOICE",
                  "cancelled in the billing system after Rp 3.300.000 was received: the payment "
                  "is decided again"),
    }  # fmt: skip
    engine = store.make_engine(opts.db_url)
    with engine.connect() as conn:
        a, al = db.audit_log.c, db.allocations.c
        active = conn.execute(
            select(al.invoice_no, al.amount).where(al.bank_line_id == 5, al.active.is_(True))
        ).all()
        withdrawn = conn.execute(
            select(a.run_id).where(a.action == "withdraw", a.entity == "decision")
        ).all()
        d = db.decisions.c
        candidates = conn.execute(
            select(d.candidates).where(d.bank_line_id == 5, d.active.is_(True))
        ).scalar_one()
    engine.dispose()
    assert active == [] and withdrawn == [(second.run_id,)]
    assert candidates == "20465"  # the review sheet's candidate: refund it, or assign it

    third = run(replace(opts, as_of=date(2026, 3, 11)))

    assert third.counts["lines_considered"] == 0
    assert _line(opts, 5)["status"] == "DUPLICATE"  # seen again; its decision stands
    engine = store.make_engine(opts.db_url)
    with engine.connect() as conn:
        b = db.bank_lines.c
        assert conn.execute(select(b.status).where(b.id == 5)).scalar_one() == "REVIEW"
    engine.dispose()


def test_cancelling_one_invoice_of_a_combined_payment_reopens_the_other(tmp_path: Path) -> None:
    """Line 1 (PT Wijaya Niaga Sentosa, Rp 1.500.000) paid 20440 and 20442 together; the billing
    system cancels 20440. The payment is withdrawn from both: 20442 is open again, and line 1
    goes to review naming the cancelled invoice only."""
    opts = _options(tmp_path)
    run(opts)
    assert (_line(opts, 1)["status"], _line(opts, 1)["invoice_nos"]) == ("MATCHED", "20440;20442")
    assert opts.invoices is not None
    opts.invoices.write_text(
        "".join(
            row.replace(",Unpaid", ",Cancelled") if row.startswith("20440,") else row
            for row in opts.invoices.read_text(encoding="utf-8").splitlines(keepends=True)
        ),
        encoding="utf-8",
    )

    run(opts)

    line = _line(opts, 1)
    assert (line["status"], line["codes"]) == ("REVIEW", "PAYMENT_ON_CLOSED_INVOICE")
    assert line["reason"].startswith(
        "invoice #20440 it paid was cancelled in the billing system; invoice #20440 is cancelled;"
    )
    invoices = {r["invoice_no"]: r for r in _csv(opts, "invoices.csv")}
    assert [(invoices[n]["status"], invoices[n]["amount_received"], invoices[n]["reason"])
            for n in ("20440", "20442")] == [
        ("CANCELLED", "0.00", "money received for an invoice that is cancelled"),
        ("OPEN", "0.00", "payment withdrawn: another invoice it paid was cancelled"),
    ]  # fmt: skip


def test_a_customers_second_payment_for_an_invoice_paid_earlier_is_a_duplicate_payment(
    tmp_path: Path, db_url: str
) -> None:
    """Budi Santoso's Rp 1.500.000 paid invoice 20431 on 2 March (line 8); on 10 March he
    transfers Rp 1.500.000 again, quoting nothing. Nothing open fits it, but it is no
    unidentified credit: a second payment to refund (or for another invoice), for a person."""
    opts = replace(_options(tmp_path), db_url=db_url)
    run(opts)
    assert (_line(opts, 8)["status"], _line(opts, 8)["invoice_nos"]) == ("MATCHED", "20431")
    _bca_export(opts, "10/03/2026", "1500000.00", " BUDI SANTOSO")

    again = run(opts)

    assert (again.counts["lines_new"], again.counts["review"]) == (1, 1)
    [line] = [r for r in _rows(opts) if r["line_id"] == "18"]
    assert (line["status"], line["codes"], line["counterparty"], line["amount"]) == (
        "REVIEW", "DUPLICATE_PAYMENT", "BUDI SANTOSO", "1500000.00")  # fmt: skip
    assert line["reason"] == (
        "the sender's invoice #20431 of this amount is already paid: a second payment to "
        "refund, or another invoice"
    )
