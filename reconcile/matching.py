"""The matching core: ``decide(credits, invoices, confirmations, aliases, rules, as_of)``.

Pure (frames in, frames out, integer sen; no files, no database, no clock). The steps:
candidates (``reconcile.candidates``) → scoring (``reconcile.scoring``) → instalments and
combined payments → global assignment (``reconcile.assign``) → lines, allocations, invoice
and confirmation outcomes with codes and a one-line reason a person understands.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from reconcile.assign import assign, rank_of
from reconcile.calendar import BankingCalendar
from reconcile.candidates import (
    OPEN_STATUSES,
    amount_pairs,
    block_keys,
    confirmation_links,
    confirmation_pairs,
    find_refs,
    invoice_key,
    name_pairs,
)
from reconcile.config import Matching
from reconcile.errors import ReconcileError
from reconcile.money import format_amount_id, from_sen
from reconcile.names import normalise_names
from reconcile.scoring import AMOUNT_LEVELS, COMPARISONS, score_pairs, tolerance_sen


class Code(StrEnum):
    UNDERPAID = "UNDERPAID"
    OVERPAID = "OVERPAID"
    SPLIT_PAYMENT = "SPLIT_PAYMENT"
    COMBINED_PAYMENT = "COMBINED_PAYMENT"
    DUPLICATE_PAYMENT = "DUPLICATE_PAYMENT"  # money for an invoice already PAID
    PAYMENT_ON_CLOSED_INVOICE = "PAYMENT_ON_CLOSED_INVOICE"  # invoice CANCELLED
    NAME_MISMATCH = "NAME_MISMATCH"
    WRONG_ACCOUNT = "WRONG_ACCOUNT"
    CONFIRMATION_AMOUNT_MISMATCH = "CONFIRMATION_AMOUNT_MISMATCH"
    CONFIRMATION_WITHOUT_FUNDS = "CONFIRMATION_WITHOUT_FUNDS"
    UNIDENTIFIED_CREDIT = "UNIDENTIFIED_CREDIT"
    AMBIGUOUS = "AMBIGUOUS"
    PAID_AFTER_DUE = "PAID_AFTER_DUE"


class LineStatus(StrEnum):
    MATCHED = "MATCHED"
    REVIEW = "REVIEW"
    UNMATCHED = "UNMATCHED"


class Rule(StrEnum):
    INVOICE_REF = "invoice_ref"
    CONFIRMATION = "confirmation"
    NAME_AMOUNT = "name_amount"
    UNIQUE_AMOUNT = "unique_amount"
    COMBINED = "combined"
    SPLIT = "split"
    AMOUNT_ONLY = "amount_only"
    NONE = "none"


CREDIT_COLUMNS = ("line_id", "account_no", "posted_on", "amount_sen", "counterparty", "message",
                  "description")  # fmt: skip
INVOICE_COLUMNS = ("invoice_no", "client_name", "company_name", "email", "issued_on", "due_on",
                   "amount_sen", "received_sen", "status", "client_key")  # fmt: skip
CONFIRMATION_COLUMNS = ("ticket_id", "email", "account_name", "invoice_nos", "dest_account_no",
                        "dest_not_ours", "amount_sen", "transfer_date", "intake_status", "status")  # fmt: skip
FULL_LEVELS = ("unique_code", "exact", "fee_shortfall", "within_tolerance")
MAX_COMBINED_POOL = 12  # open invoices of one client searched for an exact subset sum


@dataclass(frozen=True)
class MatchResult:
    lines: pd.DataFrame
    allocations: pd.DataFrame
    invoices: pd.DataFrame
    confirmations: pd.DataFrame
    aliases: pd.DataFrame  # sender_norm, client_key: payers learned from confirmations


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReconcileError(f"decide(): the {what} frame lacks column(s) {', '.join(missing)}")


def _prepare(
    credits: pd.DataFrame, invoices: pd.DataFrame, confirmations: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    cr = credits.sort_values("line_id", kind="stable").reset_index(drop=True)
    cr = cr.assign(
        posted_on=pd.to_datetime(cr["posted_on"]).dt.normalize(),
        amount_sen=cr["amount_sen"].astype(np.int64),
        sender_norm=normalise_names(cr["counterparty"]).to_numpy(),
        message=cr["message"].fillna("").astype(str),
        description=cr["description"].fillna("").astype(str),
    )
    cr["sender_key"] = block_keys(cr["sender_norm"]).to_numpy()
    inv = invoices.sort_values("invoice_no", kind="stable").reset_index(drop=True)
    inv = inv.assign(
        inv_key=invoice_key(inv["invoice_no"]).to_numpy(),
        amount_sen=inv["amount_sen"].astype(np.int64),
        received_sen=inv["received_sen"].astype(np.int64),
        issued_on=pd.to_datetime(inv["issued_on"]).dt.normalize(),
        due_on=pd.to_datetime(inv["due_on"]).dt.normalize(),
        client_norm=normalise_names(inv["client_name"]).to_numpy(),
        company_norm=normalise_names(inv["company_name"]).to_numpy(),
        email_norm=inv["email"].fillna("").astype(str).str.strip().str.lower().to_numpy(),
    )
    inv["outstanding_sen"] = inv["amount_sen"] - inv["received_sen"]
    inv["client_block"] = block_keys(inv["client_norm"]).to_numpy()
    inv["company_block"] = block_keys(inv["company_norm"]).to_numpy()
    cf = confirmations.sort_values("ticket_id", kind="stable").reset_index(drop=True)
    transfer_day = pd.to_datetime(cf["transfer_date"]).dt.normalize()
    cf = cf.assign(
        name_norm=normalise_names(cf["account_name"]).to_numpy(),
        email_norm=cf["email"].fillna("").astype(str).str.strip().str.lower().to_numpy(),
        transfer_day=transfer_day,
        amount_sen=cf["amount_sen"].astype("Int64"),
        dest_account_no=cf["dest_account_no"].fillna("").astype(str),
        dest_not_ours=cf["dest_not_ours"].astype(bool),
        closed=(cf["intake_status"] != "VALID") | cf["status"].isin(("MATCHED",)),
        invoice_keys=cf["invoice_nos"]
        .fillna("")
        .astype(str)
        .str.split(";")
        .map(lambda parts: [p.lstrip("#").lstrip("0") for p in parts if p]),
    )
    cf["name_key"] = block_keys(cf["name_norm"]).to_numpy()
    for column in ("intake_reason", "codes", "line_ids", "reason"):  # earlier runs' outcome
        values = cf[column] if column in cf else pd.Series("", index=cf.index, dtype=object)
        cf[column] = values.fillna("").astype(str)
    return cr, inv, cf


def _candidate_pairs(
    cr: pd.DataFrame,
    inv: pd.DataFrame,
    cf: pd.DataFrame,
    aliases: pd.DataFrame,
    rules: Matching,
    calendar: BankingCalendar,
) -> tuple[pd.DataFrame, np.ndarray]:
    amount, exact_block = amount_pairs(cr, inv, rules, calendar)
    parts = [find_refs(cr, inv, rules), name_pairs(cr, inv, aliases, rules), amount]
    if len(cf):
        links = confirmation_links(cr, cf, rules, calendar)
        parts.append(confirmation_pairs(links, cf, inv))
    pairs = pd.concat(parts, ignore_index=True)
    for column in ("ref", "alias", "name_block", "amount_block"):
        pairs[column] = pairs[column].fillna(0).astype(np.int64) if column in pairs else 0
    pairs["fidx"] = pairs["fidx"].fillna(-1).astype(np.int64) if "fidx" in pairs else -1
    evidence = pairs.groupby(["cidx", "iidx"], as_index=False)[
        ["ref", "alias", "name_block", "amount_block"]
    ].max()
    confs = pairs[["cidx", "iidx", "fidx"]].drop_duplicates()
    merged = evidence.merge(confs, on=["cidx", "iidx"])
    # a pair found without a confirmation keeps its "-1" row only if no confirmation links it
    with_conf = merged.groupby(["cidx", "iidx"])["fidx"].transform("max") >= 0
    merged = merged[(merged["fidx"] >= 0) | ~with_conf].reset_index(drop=True)
    merged["exact_block"] = exact_block[merged["cidx"].to_numpy()]
    return merged, exact_block


def _best_per_pair(scored: pd.DataFrame, cf: pd.DataFrame) -> pd.DataFrame:
    ticket = np.where(
        scored["fidx"] >= 0,
        cf["ticket_id"].astype(str).to_numpy()[np.maximum(scored["fidx"].to_numpy(), 0)]
        if len(cf)
        else "",
        "",
    )
    ordered = scored.assign(ticket=ticket).sort_values(
        ["cidx", "iidx", "score", "ticket"], ascending=[True, True, False, True]
    )
    return ordered.drop_duplicates(["cidx", "iidx"]).reset_index(drop=True)


def _split_groups(
    viable: pd.DataFrame, cr: pd.DataFrame, inv: pd.DataFrame, rules: Matching,
    calendar: BankingCalendar,
) -> pd.DataFrame:  # fmt: skip
    """Instalments: ≥2 identified partial credits of one payer towards one invoice.

    Applied together when their sum does not exceed what is outstanding (beyond the
    over-payment tolerance): completing the invoice (PAID) or not yet (PARTIAL, the balance
    stays outstanding). ``completes`` tells which.
    """
    ranked = viable.assign(rank=rank_of(viable))
    best = ranked[ranked["rank"] == ranked.groupby("cidx")["rank"].transform("max")]
    best = best[best.groupby("cidx")["iidx"].transform("size") == 1]
    part = best[(best["amount"] == "partial") & best["identified"]].copy()
    if part.empty:
        return part.assign(credit_sen=0, completes=False, balance_sen=0)
    part["credit_sen"] = cr["amount_sen"].to_numpy()[part["cidx"].to_numpy()]
    part["sender"] = cr["sender_norm"].to_numpy()[part["cidx"].to_numpy()]
    part["posted"] = cr["posted_on"].to_numpy()[part["cidx"].to_numpy()]
    group = part.groupby("iidx").agg(
        n=("cidx", "size"),
        paid=("credit_sen", "sum"),
        senders=("sender", lambda s: s[s != ""].nunique()),
        first=("posted", "min"),
        last=("posted", "max"),
    )
    outstanding = inv["outstanding_sen"].to_numpy()[group.index.to_numpy()]
    gap = group["paid"].to_numpy() - outstanding
    completes = -gap <= tolerance_sen(rules.underpaid_tolerance, outstanding)
    not_over = gap <= tolerance_sen(rules.overpaid_tolerance, outstanding)
    span = calendar.distances(
        group["first"].reset_index(drop=True), group["last"].reset_index(drop=True)
    )
    ok = (group["n"].to_numpy() >= 2) & not_over & (group["senders"].to_numpy() <= 1)
    ok &= span <= rules.split_window_days
    verdict = pd.DataFrame(
        {"completes": completes, "balance_sen": np.maximum(-gap, 0)}, index=group.index
    )[ok]
    return part.merge(verdict, left_on="iidx", right_index=True)


def _combined_groups(
    viable: pd.DataFrame, cr: pd.DataFrame, inv: pd.DataFrame, rules: Matching
) -> tuple[list[tuple[int, tuple[int, ...], int]], list[int]]:
    """One credit, several invoices of one client summing to it: (cidx, iidx..., weight)."""
    ranked = viable.assign(rank=rank_of(viable))
    fits = ranked["amount"].isin(FULL_LEVELS) & ranked["identified"]
    fits_single = fits.groupby(ranked["cidx"]).transform("any")
    pool = ranked[~fits_single & ranked["identified"]]
    if pool.empty:
        return [], []
    pool = pool.assign(client=inv["client_key"].to_numpy()[pool["iidx"].to_numpy()])
    id_weight = pool[["w_reference", "w_name", "w_confirmation"]].max(axis=1)
    pool = pool.assign(id_weight=id_weight)
    per_credit = pool.groupby("cidx").agg(
        client=("client", "first"), clients=("client", "nunique"), weight=("id_weight", "max")
    )
    per_credit = per_credit[per_credit["clients"] == 1]
    open_inv = inv[inv["status"].isin(OPEN_STATUSES)]
    by_client = {
        k: g.index.to_numpy()
        for k, g in open_inv.groupby("client_key")
        if len(g) <= MAX_COMBINED_POOL
    }
    found: list[tuple[int, tuple[int, ...], int]] = []
    ambiguous: list[int] = []
    outstanding = inv["outstanding_sen"].to_numpy()
    for cidx, client, weight in zip(
        per_credit.index, per_credit["client"], per_credit["weight"], strict=True
    ):  # only credits no single invoice fits, each over a handful of the client's invoices
        members = by_client.get(client)
        if members is None or len(members) < 2:
            continue
        amount = int(cr["amount_sen"].iat[cidx])
        subsets = [
            combo
            for size in range(2, min(rules.max_combined_invoices, len(members)) + 1)
            for combo in itertools.combinations(members.tolist(), size)
            if int(outstanding[list(combo)].sum()) == amount
        ]
        if len(subsets) == 1:
            found.append((int(cidx), tuple(subsets[0]), int(weight)))
        elif len(subsets) > 1:
            ambiguous.append(int(cidx))
    claimed = pd.Series([i for _, combo, _ in found for i in combo]).value_counts()
    contested = set(claimed[claimed > 1].index)
    clean = [g for g in found if not contested.intersection(g[1])]
    ambiguous += [g[0] for g in found if contested.intersection(g[1])]
    return clean, ambiguous


def _rp(sen: int) -> str:
    return "Rp " + format_amount_id(from_sen(sen)).removesuffix(",00")


def _reason(row: pd.Series, cr: pd.DataFrame, inv: pd.DataFrame, cf: pd.DataFrame) -> str:
    parts: list[str] = []
    amount = row["amount"]
    if amount in ("exact", "unique_code"):
        parts.append("amount exact" + (" with unique code" if amount == "unique_code" else ""))
    elif row["gap_sen"] < 0:
        parts.append(f"amount {_rp(-int(row['gap_sen']))} short ({amount.replace('_', ' ')})")
    else:
        parts.append(f"amount {_rp(int(row['gap_sen']))} over ({amount.replace('_', ' ')})")
    if row["reference"] != "none":
        parts.append(f"invoice #{inv['invoice_no'].iat[row['iidx']]} in description")
    sender = str(cr["counterparty"].iat[row["cidx"]] or "")
    name = row["name"]
    if name == "alias":
        parts.append(
            f"sender {sender!r} is a learned alias of {inv['client_name'].iat[row['iidx']]!r}"
        )
    elif name in ("client", "company", "weak", "different") and sender:
        column = "company_name" if name == "company" else "client_name"
        label = "company" if name == "company" else "client"
        target = inv[column].iat[row["iidx"]]
        parts.append(f"name {sender!r} ~ {label} {target!r} {int(row['name_sim'])}")
    elif name == "confirmation":
        parts.append(f"name {sender!r} ~ confirmation name {int(row['conf_sim'])}")
    if row["fidx"] >= 0:
        ticket = cf["ticket_id"].iat[row["fidx"]]
        parts.append(f"confirmation #{ticket} {row['confirmation']}")
    if row["date"] == "before_issue":
        parts.append("paid before the invoice date")
    elif row["after_due"]:
        parts.append(f"{int(row['days_after_due'])} banking days after due")
    return "; ".join(parts)


def _signals(row: pd.Series) -> str:
    data: dict[str, Any] = {
        name: {"level": row[name], "weight": int(row[f"w_{name}"])} for name in COMPARISONS
    }
    data["name"]["similarity"] = int(row["name_sim"])
    data["date"]["banking_days_after_due"] = int(row["days_after_due"])
    data["amount"]["gap_sen"] = int(row["gap_sen"])
    return json.dumps(data, sort_keys=True)


def _rule(row: pd.Series) -> str:
    if row["reference"] != "none":
        return Rule.INVOICE_REF.value
    if row["confirmation"] == "agrees":
        return Rule.CONFIRMATION.value
    if row["name"] in ("alias", "client", "company", "confirmation"):
        return Rule.NAME_AMOUNT.value
    if row["rarity"] == "sole_open":
        return Rule.UNIQUE_AMOUNT.value
    return Rule.AMOUNT_ONLY.value


def _pair_codes(row: pd.Series, inv: pd.DataFrame) -> list[str]:
    codes: list[str] = []
    status = inv["status"].iat[row["iidx"]]
    if status == "PAID":
        codes.append(Code.DUPLICATE_PAYMENT)
    elif status == "CANCELLED":
        codes.append(Code.PAYMENT_ON_CLOSED_INVOICE)
    elif row["gap_sen"] < 0:
        codes.append(Code.UNDERPAID)
    elif row["gap_sen"] > 0:
        codes.append(Code.OVERPAID)
    if row["name"] in ("weak", "different"):
        codes.append(Code.NAME_MISMATCH)
    if row["wrong_account"]:
        codes.append(Code.WRONG_ACCOUNT)
    if row["conf_amount_differs"]:
        codes.append(Code.CONFIRMATION_AMOUNT_MISMATCH)
    if row["after_due"] and status not in ("PAID", "CANCELLED"):
        codes.append(Code.PAID_AFTER_DUE)
    return codes


def decide(
    credits: pd.DataFrame,
    invoices: pd.DataFrame,
    confirmations: pd.DataFrame,
    aliases: pd.DataFrame,
    rules: Matching,
    as_of: date,
) -> MatchResult:
    """Match incoming credits to invoices and confirmations; see docs/DESIGN.md."""
    _require(credits, CREDIT_COLUMNS, "credits")
    _require(invoices, INVOICE_COLUMNS, "invoices")
    _require(confirmations, CONFIRMATION_COLUMNS, "confirmations")
    _require(aliases, ("sender_norm", "client_key"), "aliases")
    calendar = BankingCalendar(rules.extra_holidays)
    cr, inv, cf = _prepare(credits, invoices, confirmations)
    pairs, exact_block = _candidate_pairs(cr, inv, cf, aliases, rules, calendar)
    scored = score_pairs(pairs, cr, inv, cf, rules, calendar)
    best = _best_per_pair(scored, cf)
    viable = best[best["score"] >= rules.review_threshold].reset_index(drop=True)
    viable["posted_day"] = cr["posted_on"].to_numpy()[viable["cidx"].to_numpy()]
    viable["line_id"] = cr["line_id"].to_numpy()[viable["cidx"].to_numpy()]

    n = len(cr)
    status = np.full(n, LineStatus.UNMATCHED.value, dtype=object)
    rule = np.full(n, Rule.NONE.value, dtype=object)
    score = np.zeros(n, dtype=np.int64)
    signals = np.full(n, "{}", dtype=object)
    reason = np.full(n, "", dtype=object)
    codes: list[list[str]] = [[] for _ in range(n)]
    line_invoices: list[list[str]] = [[] for _ in range(n)]
    line_tickets: list[list[str]] = [[] for _ in range(n)]
    candidates: list[list[str]] = [[] for _ in range(n)]
    allocations: list[tuple[int, int, int]] = []  # cidx, iidx, sen
    invoice_codes: dict[int, list[str]] = {}
    learned: list[tuple[int, int]] = []  # (cidx, iidx): payer named by a confirmation

    # 1. instalments completing an invoice
    split = _split_groups(viable, cr, inv, rules, calendar)
    for row in split.itertuples():
        c, i = int(row.cidx), int(row.iidx)
        status[c], rule[c], score[c] = LineStatus.MATCHED.value, Rule.SPLIT.value, int(row.score)
        codes[c] = [Code.SPLIT_PAYMENT]
        line_invoices[c] = [str(inv["invoice_no"].iat[i])]
        allocations.append((c, i, int(row.credit_sen)))
        invoice_codes.setdefault(i, []).append(Code.SPLIT_PAYMENT)
        full = viable[(viable["cidx"] == c) & (viable["iidx"] == i)].iloc[0]
        signals[c] = _signals(full)
        balance = "" if row.completes else f" ({_rp(int(row.balance_sen))} still outstanding)"
        reason[c] = f"instalment of invoice #{inv['invoice_no'].iat[i]}{balance}; " + _reason(
            full, cr, inv, cf
        )
        if full["fidx"] >= 0:
            line_tickets[c] = [str(cf["ticket_id"].iat[int(full["fidx"])])]
            if full["name"] == "confirmation":
                learned.append((c, i))
    taken_credits = set(split["cidx"].tolist())
    taken_invoices = set(split["iidx"].tolist())

    # 2. one transfer paying several invoices of one client
    rest = viable[~viable["cidx"].isin(taken_credits) & ~viable["iidx"].isin(taken_invoices)]
    combined, combined_ambiguous = _combined_groups(rest, cr, inv, rules)
    for c, members, weight in combined:
        total = AMOUNT_LEVELS["exact"] + weight + 5
        nos = [str(inv["invoice_no"].iat[i]) for i in members]
        auto = total >= rules.auto_threshold
        status[c] = (LineStatus.MATCHED if auto else LineStatus.REVIEW).value
        rule[c], score[c] = Rule.COMBINED.value, min(total, 100)
        codes[c] = [Code.COMBINED_PAYMENT]
        line_invoices[c] = nos
        linked = viable[
            (viable["cidx"] == c) & viable["iidx"].isin(members) & (viable["fidx"] >= 0)
        ]
        line_tickets[c] = sorted({str(cf["ticket_id"].iat[int(f)]) for f in linked["fidx"]})
        signals[c] = json.dumps({"combined": {"invoices": nos, "identification_weight": weight}})
        reason[c] = f"sum of {len(nos)} open invoices of one client: " + ", ".join(
            f"#{no} {_rp(int(inv['outstanding_sen'].iat[i]))}"
            for no, i in zip(nos, members, strict=True)
        )
        if auto:
            for i in members:
                allocations.append((c, i, int(inv["outstanding_sen"].iat[i])))
                invoice_codes.setdefault(i, []).append(Code.COMBINED_PAYMENT)
        taken_credits.add(c)
        taken_invoices.update(members)
    for c in combined_ambiguous:
        status[c], codes[c] = LineStatus.REVIEW.value, [Code.AMBIGUOUS]
        reason[c] = "several sets of the client's open invoices sum to this amount"
        taken_credits.add(c)

    # 3. global assignment of the rest
    rest = viable[~viable["cidx"].isin(taken_credits) & ~viable["iidx"].isin(taken_invoices)]
    result = assign(rest)
    keyed = rest.set_index(["cidx", "iidx"])
    for kind, frame in (("accepted", result.accepted), ("duplicate", result.duplicates)):
        for c, i in zip(frame["cidx"].tolist(), frame["iidx"].tolist(), strict=True):
            row = keyed.loc[(c, i)]
            row = pd.concat([row, pd.Series({"cidx": c, "iidx": i})])
            pair_codes = _pair_codes(row, inv)
            inv_status = inv["status"].iat[i]
            auto = (
                kind == "accepted"
                and row["score"] >= rules.auto_threshold
                and bool(row["identified"])
                and inv_status in OPEN_STATUSES
                and row["amount"] != "over"
            )
            if kind == "duplicate":
                pair_codes = [Code.DUPLICATE_PAYMENT, *pair_codes]
            if auto and inv["received_sen"].iat[i] > 0 and Code.UNDERPAID not in pair_codes:
                pair_codes = [Code.SPLIT_PAYMENT, *pair_codes]
            status[c] = (LineStatus.MATCHED if auto else LineStatus.REVIEW).value
            rule[c], score[c] = _rule(row), int(row["score"])
            codes[c] = list(dict.fromkeys(pair_codes))
            line_invoices[c] = [str(inv["invoice_no"].iat[i])]
            signals[c], reason[c] = _signals(row), _reason(row, cr, inv, cf)
            if row["fidx"] >= 0:
                line_tickets[c] = [str(cf["ticket_id"].iat[int(row["fidx"])])]
            if auto:
                allocations.append((c, i, int(cr["amount_sen"].iat[c])))
                invoice_codes.setdefault(i, []).extend(codes[c])
                if row["fidx"] >= 0 and row["name"] == "confirmation":
                    learned.append((c, i))
            elif inv_status not in OPEN_STATUSES:
                invoice_codes.setdefault(i, []).extend(codes[c])
    for c, group in result.ambiguous.groupby("cidx"):
        nos = sorted(str(inv["invoice_no"].iat[i]) for i in group["iidx"])
        first = keyed.loc[(c, int(group["iidx"].iat[0]))]
        status[c], rule[c], score[c] = LineStatus.REVIEW.value, _rule(first), int(first["score"])
        codes[c], candidates[c] = [Code.AMBIGUOUS], nos
        reason[c] = (
            f"{len(nos)} invoices fit equally well (score {int(first['score'])}): "
            + ", ".join(f"#{no}" for no in nos)
        )

    # credits nobody could place
    for c in np.flatnonzero(status == LineStatus.UNMATCHED.value).tolist():
        block = int(exact_block[c])
        if block > rules.max_block_size:
            status[c], codes[c] = LineStatus.REVIEW.value, [Code.AMBIGUOUS]
            reason[c] = (
                f"amount {_rp(int(cr['amount_sen'].iat[c]))} fits {block} open invoices; "
                "nothing else identifies the payer"
            )
        else:
            codes[c] = [Code.UNIDENTIFIED_CREDIT]
            reason[c] = "no invoice, confirmation or known payer fits this credit"
    for c in range(n):
        if not candidates[c] and status[c] == LineStatus.REVIEW.value:
            candidates[c] = list(line_invoices[c])

    lines = pd.DataFrame(
        {
            "line_id": cr["line_id"].to_numpy(),
            "status": status,
            "rule": rule,
            "score": score,
            "signals": signals,
            "reason": reason,
            "codes": [";".join(x) for x in codes],
            "invoice_nos": [";".join(x) for x in line_invoices],
            "confirmation_ids": [";".join(x) for x in line_tickets],
            "candidates": [";".join(x) for x in candidates],
        }
    )
    alloc = pd.DataFrame(allocations, columns=["cidx", "iidx", "amount_sen"])
    alloc_out = pd.DataFrame(
        {
            "line_id": cr["line_id"].to_numpy()[alloc["cidx"].to_numpy(dtype=np.int64)],
            "invoice_no": inv["invoice_no"].to_numpy()[alloc["iidx"].to_numpy(dtype=np.int64)],
            "amount_sen": alloc["amount_sen"].to_numpy(dtype=np.int64),
        }
    ).sort_values(["line_id", "invoice_no"], ignore_index=True)
    invoices_out = _invoice_outcomes(inv, alloc, invoice_codes, rules)
    confirmations_out = _confirmation_outcomes(cf, cr, lines, line_tickets, rules, calendar, as_of)
    return MatchResult(
        lines=lines.sort_values("line_id", ignore_index=True),
        allocations=alloc_out,
        invoices=invoices_out,
        confirmations=confirmations_out,
        aliases=_learned_aliases(learned, cr, inv, aliases),
    )


def _learned_aliases(
    learned: list[tuple[int, int]], cr: pd.DataFrame, inv: pd.DataFrame, known: pd.DataFrame
) -> pd.DataFrame:
    """Sender names a confirmation tied to a client with another name (spouse, employer)."""
    pairs = pd.DataFrame(learned, columns=["cidx", "iidx"], dtype=np.int64)
    found = pd.DataFrame(
        {
            "sender_norm": cr["sender_norm"].to_numpy()[pairs["cidx"].to_numpy()],
            "client_key": inv["client_key"].to_numpy()[pairs["iidx"].to_numpy()],
        }
    )
    found = found[found["sender_norm"] != ""].drop_duplicates()
    old = found.merge(known[["sender_norm", "client_key"]], how="left", indicator=True)
    fresh = old[old["_merge"] == "left_only"][["sender_norm", "client_key"]]
    return fresh.sort_values(["sender_norm", "client_key"], ignore_index=True)


def _invoice_outcomes(
    inv: pd.DataFrame, alloc: pd.DataFrame, invoice_codes: dict[int, list[str]], rules: Matching
) -> pd.DataFrame:
    received = alloc.groupby("iidx")["amount_sen"].sum()
    touched = sorted(set(received.index.astype(int)) | set(invoice_codes))
    rows = []
    for i in touched:
        amount = int(inv["amount_sen"].iat[i])
        before = int(inv["received_sen"].iat[i])
        now = before + int(received.get(i, 0))
        codes = list(dict.fromkeys(invoice_codes.get(i, [])))
        if i not in received.index:
            rows.append((inv["invoice_no"].iat[i], inv["status"].iat[i], before, ";".join(codes),
                         "money received for an invoice that is " + str(inv["status"].iat[i]).lower()))  # fmt: skip
            continue
        short = amount - now
        limit = int(tolerance_sen(rules.underpaid_tolerance, np.array([amount]))[0])
        if short <= limit:
            status = "PAID"
            text = "paid" if short <= 0 else f"paid; {_rp(short)} short within tolerance"
            if short < 0:
                text = f"paid; {_rp(-short)} over"
        else:
            status = "PARTIAL"
            text = f"partly paid; {_rp(short)} outstanding"
        rows.append((inv["invoice_no"].iat[i], status, now, ";".join(codes), text))
    return pd.DataFrame(rows, columns=["invoice_no", "status", "received_sen", "codes", "reason"])


def _confirmation_outcomes(
    cf: pd.DataFrame,
    cr: pd.DataFrame,
    lines: pd.DataFrame,
    line_tickets: list[list[str]],
    rules: Matching,
    calendar: BankingCalendar,
    as_of: date,
) -> pd.DataFrame:
    by_ticket: dict[str, list[int]] = {}
    for c, tickets in enumerate(line_tickets):
        for t in tickets:
            by_ticket.setdefault(t, []).append(c)
    rows = []
    deadline = calendar.add(
        cf["transfer_day"].fillna(pd.Timestamp(as_of)), rules.confirmation_funds_wait_days
    )
    as_of_day = np.datetime64(as_of, "D")
    for f in range(len(cf)):
        ticket = str(cf["ticket_id"].iat[f])
        linked = by_ticket.get(ticket, [])
        if linked:
            line_codes = {
                code
                for c in linked
                for code in str(lines["codes"].iat[c]).split(";")
                if code in (Code.WRONG_ACCOUNT, Code.CONFIRMATION_AMOUNT_MISMATCH)
            }
            line_status = {str(lines["status"].iat[c]) for c in linked}
            state = "MATCHED" if line_status == {LineStatus.MATCHED.value} else "REVIEW"
            ids = ";".join(str(cr["line_id"].iat[c]) for c in sorted(linked))
            rows.append((ticket, state, ";".join(sorted(line_codes)), ids, f"funds on line {ids}"))
        elif cf["intake_status"].iat[f] != "VALID":
            rows.append((ticket, "INVALID", "", "", str(cf["intake_reason"].iat[f])))
        elif cf["status"].iat[f] == "MATCHED":  # settled in an earlier run: kept as it was
            rows.append((ticket, "MATCHED", str(cf["codes"].iat[f]),
                         str(cf["line_ids"].iat[f]), str(cf["reason"].iat[f])))  # fmt: skip
        elif pd.isna(cf["transfer_day"].iat[f]):
            rows.append((ticket, "REVIEW", "", "", "no transfer date to look for the money"))
        elif deadline[f] < as_of_day:
            rows.append((ticket, "NO_FUNDS", Code.CONFIRMATION_WITHOUT_FUNDS.value, "",
                         f"no money {rules.confirmation_funds_wait_days} banking days after the confirmed date"))  # fmt: skip
        else:
            rows.append((ticket, "AWAITING_FUNDS", "", "", "waiting for the money to arrive"))
    return pd.DataFrame(rows, columns=["ticket_id", "status", "codes", "line_ids", "reason"])
