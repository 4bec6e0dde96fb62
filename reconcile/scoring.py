"""Scoring: ordered, labelled comparison levels with documented weights (splink style).

For every candidate pair each comparison takes exactly one level: the first that holds, in the
order listed, wins; the last is the "else". A pair's score is the sum of its levels' weights,
clipped to 0-100. Weights are deterministic and chosen so that two independent pieces of
evidence are needed for ``auto_threshold`` (90): an exact amount (50) plus a name (38) plus a
date in the window (5) is 93; an amount alone is at most 55, except an exact amount carrying a
unique code (the last three digits) that no other open invoice has (60 + 30 + 5).

| comparison | level (first that holds)        | weight |
|------------|---------------------------------|-------:|
| amount     | ``unique_code``: exact, invoice amount ends in a 1-999 code | 60 |
|            | ``exact``: credit = amount outstanding                      | 50 |
|            | ``fee_shortfall``: short by 1.000/2.500/2.900/5.000/6.500, in tolerance | 47 |
|            | ``within_tolerance``: under or over, within tolerance       | 45 |
|            | ``partial``: less than outstanding (an instalment)          | 40 |
|            | ``over``: more than outstanding, beyond tolerance           | 30 |
| reference  | ``marked``: "INV 20431", "#20431" in message/description    | 45 |
|            | ``bare``: a bare digit run equal to the invoice number      | 35 |
|            | ``none``                                                    |  0 |
| name       | ``alias``: a sender learned for this client                 | 40 |
|            | ``client`` / ``company`` / ``confirmation``: similarity ≥ name_match_min | 38 |
|            | ``weak``: similarity ≥ 70                                   | 10 |
|            | ``unknown``: no sender (e-wallet, empty)                    |  0 |
|            | ``different``                                               |  0 |
| confirmation | ``agrees``: amount, date and destination account agree   | 40 |
|            | ``disagrees``: linked but amount, account or payer name differs | 15 |
|            | ``none``                                                    |  0 |
| date       | ``before_issue``: credit posted before the invoice date     | -30 |
|            | ``in_window``: up to date_window_days banking days after due |  5 |
|            | ``late``                                                    |  0 |
| rarity     | ``sole_open``: the only open invoice of this amount, with a unique code | 30 |
|            | ``else``                                                    |  0 |
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from reconcile.calendar import BankingCalendar
from reconcile.candidates import TYPICAL_FEES_SEN
from reconcile.config import Matching, Tolerance
from reconcile.names import name_similarity_pairs

WEAK_NAME_MIN = 70

AMOUNT_LEVELS = {
    "unique_code": 60,
    "exact": 50,
    "fee_shortfall": 47,
    "within_tolerance": 45,
    "partial": 40,
    "over": 30,
}
REF_LEVELS = {"marked": 45, "bare": 35, "none": 0}
NAME_LEVELS = {
    "alias": 40,
    "client": 38,
    "company": 38,
    "confirmation": 38,
    "weak": 10,
    "unknown": 0,
    "different": 0,
}
CONF_LEVELS = {"agrees": 40, "disagrees": 15, "none": 0}
DATE_LEVELS = {"before_issue": -30, "in_window": 5, "late": 0}
RARITY_LEVELS = {"sole_open": 30, "else": 0}
COMPARISONS = {
    "amount": AMOUNT_LEVELS,
    "reference": REF_LEVELS,
    "name": NAME_LEVELS,
    "confirmation": CONF_LEVELS,
    "date": DATE_LEVELS,
    "rarity": RARITY_LEVELS,
}


def tolerance_sen(tolerance: Tolerance, base_sen: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """max(absolute, percent of the invoice) in sen, exact integer arithmetic (basis points)."""
    absolute = int(tolerance.absolute * 100)
    basis_points = int(tolerance.percent * 100)
    return np.maximum(absolute, base_sen * basis_points // 10_000)


def _select(
    conditions: list[npt.NDArray[np.bool_]], labels: list[str], default: str
) -> npt.NDArray[np.object_]:
    chosen: npt.NDArray[np.object_] = np.select(conditions, labels, default=default).astype(object)
    return chosen


def score_pairs(
    pairs: pd.DataFrame,
    credits: pd.DataFrame,
    invoices: pd.DataFrame,
    confirmations: pd.DataFrame,
    rules: Matching,
    calendar: BankingCalendar,
) -> pd.DataFrame:
    """Add levels, weights, ``score`` and ``gap_sen`` (credit minus amount due) to each pair."""
    c = pairs["cidx"].to_numpy()
    i = pairs["iidx"].to_numpy()
    f = pairs["fidx"].to_numpy()
    has_conf = f >= 0
    credit_sen = credits["amount_sen"].to_numpy()[c].astype(np.int64)
    status = invoices["status"].to_numpy()[i]
    closed = ~np.isin(status, ("OPEN", "PARTIAL", "REVIEW"))
    due_sen = np.where(
        closed,
        invoices["amount_sen"].to_numpy()[i],
        invoices["outstanding_sen"].to_numpy()[i],
    ).astype(np.int64)
    gap = credit_sen - due_sen
    under_ok = -gap <= tolerance_sen(rules.underpaid_tolerance, due_sen)
    over_ok = gap <= tolerance_sen(rules.overpaid_tolerance, due_sen)
    has_code = (due_sen % 100_000) != 0
    amount = _select(
        [
            (gap == 0) & has_code,
            gap == 0,
            (gap < 0) & under_ok & np.isin(-gap, TYPICAL_FEES_SEN),
            ((gap < 0) & under_ok) | ((gap > 0) & over_ok),
            gap < 0,
        ],
        ["unique_code", "exact", "fee_shortfall", "within_tolerance", "partial"],
        "over",
    )
    ref_value = pairs["ref"].to_numpy()
    reference = _select([ref_value == 2, ref_value == 1], ["marked", "bare"], "none")

    sender = credits["sender_norm"].to_numpy()[c]
    client_sim = name_similarity_pairs(sender, invoices["client_norm"].to_numpy()[i])
    company_sim = name_similarity_pairs(sender, invoices["company_norm"].to_numpy()[i])
    safe_f = np.maximum(f, 0)

    def conf_column(column: str, default: object) -> npt.NDArray[np.object_]:
        fallback: npt.NDArray[np.object_] = np.full(len(pairs), default, dtype=object)
        if not len(confirmations):
            return fallback
        values = confirmations[column].to_numpy(dtype=object, na_value=default)[safe_f]
        chosen: npt.NDArray[np.object_] = np.where(has_conf, values, fallback)
        return chosen

    conf_sim = name_similarity_pairs(sender, conf_column("name_norm", ""))
    best_sim = np.maximum(np.maximum(client_sim, company_sim), conf_sim)
    strong = rules.name_match_min
    name = _select(
        [
            pairs["alias"].to_numpy() == 1,
            client_sim >= strong,
            company_sim >= strong,
            conf_sim >= strong,
            sender == "",
            best_sim >= WEAK_NAME_MIN,
        ],
        ["alias", "client", "company", "confirmation", "unknown", "weak"],
        "different",
    )

    conf_amount = conf_column("amount_sen", -1).astype(np.int64)
    conf_dest = conf_column("dest_account_no", "")
    conf_not_ours = conf_column("dest_not_ours", False).astype(bool)
    credit_account = credits["account_no"].to_numpy()[c]
    wrong_account = has_conf & (conf_not_ours | ((conf_dest != "") & (conf_dest != credit_account)))
    conf_amount_differs = has_conf & (conf_amount != credit_sen)
    conf_names = conf_column("name_norm", "")
    conf_name_differs = has_conf & (sender != "") & (conf_names != "") & (conf_sim < WEAK_NAME_MIN)
    confirmation = _select(
        [has_conf & ~wrong_account & ~conf_amount_differs & ~conf_name_differs, has_conf],
        ["agrees", "disagrees"],
        "none",
    )

    posted = credits["posted_on"].iloc[c].reset_index(drop=True)
    issued_gap = calendar.distances(invoices["issued_on"].iloc[i].reset_index(drop=True), posted)
    after_due = calendar.distances(invoices["due_on"].iloc[i].reset_index(drop=True), posted)
    posted_days = posted.to_numpy(dtype="datetime64[D]")
    issued_days = pd.to_datetime(invoices["issued_on"]).to_numpy(dtype="datetime64[D]")[i]
    date = _select(
        [posted_days < issued_days, after_due <= rules.date_window_days],
        ["before_issue", "in_window"],
        "late",
    )
    sole = pairs["exact_block"].to_numpy() == 1
    rarity = _select([sole & (amount == "unique_code")], ["sole_open"], "else")

    scored = pairs.assign(
        amount=amount,
        reference=reference,
        name=name,
        confirmation=confirmation,
        date=date,
        rarity=rarity,
        name_sim=np.where(name == "alias", 100, best_sim),
        client_sim=client_sim,
        company_sim=company_sim,
        conf_sim=conf_sim,
        gap_sen=gap,
        due_sen=due_sen,
        closed=closed,
        wrong_account=wrong_account,
        conf_amount_differs=conf_amount_differs,
        days_from_issue=issued_gap,
        days_after_due=after_due,
        after_due=after_due >= 1,  # a due date on a closed day runs to the next banking day
    )
    total = np.zeros(len(pairs), dtype=np.int64)
    for comparison, levels in COMPARISONS.items():
        weights = scored[comparison].map(levels).to_numpy(dtype=np.int64)
        scored[f"w_{comparison}"] = weights
        total += weights
    scored["score"] = np.clip(total, 0, 100)
    scored["identified"] = (
        (reference != "none")
        | np.isin(name, ("alias", "client", "company", "confirmation"))
        | (confirmation == "agrees")
        | (rarity == "sole_open")
    )
    return scored
