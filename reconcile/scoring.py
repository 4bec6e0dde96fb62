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
|            | ``client`` / ``company`` / ``confirmation``: same name (equal, or the sender a bank-truncated prefix of the other, printed at least 14 characters long: similarity 100) | 38 |
|            | ``fuzzy``: similarity ≥ name_match_min and the given names agree | 30 |
|            | ``weak``: similarity ≥ 70 (or ≥ name_match_min with another given name) | 10 |
|            | ``unknown``: no sender (e-wallet, empty)                    |  0 |
|            | ``different``                                               |  0 |
| confirmation | ``agrees``: amount, date, destination account and payer name agree | 40 |
|            | ``unnamed``: amount, date and account agree, but the bank shows no sender name and the credit quotes no invoice number | 20 |
|            | ``disagrees``: the payer's, but amount or account differs (never what makes a pair automatic: its name does not identify the payer, and the score without it must reach auto_threshold) | 15 |
|            | ``none``: no confirmation, or another transfer's: typed by another payer (its "Nama di Rekening" not the sender's name), or for another amount while this credit pays only part of the invoice | 0 |
| date       | ``before_issue``: credit posted before the invoice date     | -30 |
|            | ``in_window``: up to date_window_days banking days after due |  5 |
|            | ``late``                                                    |  0 |
| rarity     | ``sole_open``: the only open invoice of this amount (issued up to the posting date, however long before), with a unique code, and the sender not plainly someone else | 30 |
|            | ``else``                                                    |  0 |

The pair's ``score`` is clipped to 0-100 for people; ``raw_score``, the unclipped sum, ranks
candidates (``assign.rank_of``): an e-wallet transfer quoting "INV 20431" whose confirmation
agrees (50 + 45 + 40 + 5 = 140) outranks another credit that reaches the same invoice through
that confirmation's name alone (133), instead of both showing 100.

Names (a work-around for ``reconcile.names``): its fuzzy ratio sorts tokens, so two people who
share middle and family names ("DIAN DEWA SANTOSO" ~ "NUR DEWA SANTOSO": 85) or a bank-cut name
and another family name ("WAHYU ARIF SAN" ~ "WAHYU ARIF SETIAWAN": 85) pass ``name_match_min``.
Here a fuzzy name counts only when the given names (first tokens) agree (equal, or one the start
of the other: an initial), and it weighs less than the same name, so it never auto-matches on
an amount alone and never ties with the truncated name it only resembles. A confirmation agrees
only when its "Nama di Rekening" is the sender's name (equal, or the sender, printed at least
14 characters long, the bank-cut start of it); a confirmation under a merely similar name is another payer's and is not evidence.
Where the bank prints no sender name (e-wallets, some channels) and the credit quotes no invoice
number, nothing ties the confirmation to this transfer: amount, date and account agreeing are
``unnamed`` (20), not enough with an exact amount alone
(50 + 20 + 5 = 75) for an automatic decision: a nameless transfer of a common price near the
confirmed date may be anyone's, and the confirmed money may still be on its way.

A second work-around: ``normalise_names`` drops a trailing SE, ST, SH... as an academic degree,
but a bank cutting "IBU TEGUH PUTRA SETIAWAN" at 18 characters prints "IBU TEGUH PUTRA SE".
``decide`` passes the sender with that last token kept (``sender_kept``) and a name is compared
in both forms, the better counting.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import Prefix

from reconcile.calendar import BankingCalendar
from reconcile.candidates import OPEN_STATUSES, TYPICAL_FEES_SEN
from reconcile.config import Matching, Tolerance
from reconcile.names import coded_similarity

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
    "fuzzy": 30,
    "weak": 10,
    "unknown": 0,
    "different": 0,
}
CONF_LEVELS = {"agrees": 40, "unnamed": 20, "disagrees": 15, "none": 0}
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
) -> pd.Categorical:
    """The first level whose condition holds, else ``default``: one small integer per pair
    (a categorical over the levels in their listed order), no text per pair."""
    choices = [np.int8(k) for k in range(len(labels))]
    codes = np.select(conditions, choices, default=np.int8(len(labels))).astype(np.int8)
    return pd.Categorical.from_codes(codes, categories=[*labels, default])


def _table(
    frame: pd.DataFrame, column: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]:
    """Each row's position in the table of ``column``'s distinct values (``<column>_code``,
    set when matching prepares its frames), and that table; one more entry, "", at the end
    stands for "no name"."""
    codes = frame[f"{column}_code"].to_numpy(dtype=np.int64)
    names = np.empty((codes.max() + 1 if len(codes) else 0) + 1, dtype=object)
    names[codes] = frame[column].to_numpy(dtype=object)
    names[-1] = ""
    return codes, names


def _first_tokens(
    names: npt.NDArray[np.object_],
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.int64]]:
    """First token of each name and its length (the callers pass distinct names)."""
    firsts = [n.split(" ", 1)[0] if isinstance(n, str) else "" for n in names.tolist()]
    lengths = np.fromiter(map(len, firsts), dtype=np.int64, count=len(firsts))
    return np.array(firsts, dtype=object), lengths


def _tokens_agree(
    first_a: npt.NDArray[np.object_],
    len_a: npt.NDArray[np.int64],
    first_b: npt.NDArray[np.object_],
    len_b: npt.NDArray[np.int64],
) -> npt.NDArray[np.bool_]:
    """Element-wise: the first tokens of two names are equal or one starts the other.

    "BUDI" ~ "BUDI", "B" ~ "BUDI" (an initial), "DIAN" !~ "NUR". Unknown names never agree.
    """
    common = process.cpdist(first_a, first_b, scorer=Prefix.similarity, workers=-1)
    shorter = np.minimum(len_a, len_b)
    agree: npt.NDArray[np.bool_] = (shorter > 0) & (common.astype(np.int64) == shorter)
    return agree


def _agree_where(
    mask: npt.NDArray[np.bool_],
    a: tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]],
    b: tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]],
) -> npt.NDArray[np.bool_]:
    """``mask`` and the given names (first tokens) agree (:func:`_tokens_agree`), for names
    given as (positions, table), comparing first names only where ``mask`` holds."""
    out = np.zeros(len(mask), dtype=bool)
    if mask.any():
        # first names of the distinct names involved only (positions are numbers: cheap to
        # deduplicate), then gathered per pair
        def firsts(
            side: tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]],
        ) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.int64]]:
            codes, distinct = pd.factorize(side[0][mask])
            tokens, lengths = _first_tokens(side[1][distinct])
            return tokens[codes], lengths[codes]

        out[mask] = _tokens_agree(*firsts(a), *firsts(b))
    return out


Tables = dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]]


def name_tables(
    credits: pd.DataFrame, invoices: pd.DataFrame, confirmations: pd.DataFrame
) -> Tables:
    """The name tables (see _table) scoring uses, built once for all blocks of pairs."""
    tables = {
        "sender_norm": _table(credits, "sender_norm"),
        "sender_kept": _table(credits, "sender_kept"),
        "client_norm": _table(invoices, "client_norm"),
        "company_norm": _table(invoices, "company_norm"),
    }
    if len(confirmations):
        tables["name_norm"] = _table(confirmations, "name_norm")
    else:
        tables["name_norm"] = (np.zeros(0, dtype=np.int64), np.array([""], dtype=object))
    return tables


def score_pairs(
    pairs: pd.DataFrame,
    credits: pd.DataFrame,
    invoices: pd.DataFrame,
    confirmations: pd.DataFrame,
    rules: Matching,
    calendar: BankingCalendar,
    tables: Tables | None = None,
) -> pd.DataFrame:
    """Add levels, weights, ``score`` and ``gap_sen`` (credit minus amount due) to each pair.

    ``tables``: ``name_tables(credits, invoices, confirmations)`` when scoring in blocks."""
    tables = tables or name_tables(credits, invoices, confirmations)
    c = pairs["cidx"].to_numpy()
    i = pairs["iidx"].to_numpy()
    f = pairs["fidx"].to_numpy()
    has_conf = f >= 0
    credit_sen = credits["amount_sen"].to_numpy()[c].astype(np.int64)
    closed = ~invoices["status"].isin(OPEN_STATUSES).to_numpy()[i]
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

    # names as positions in tables of distinct names (see _table)
    sender_codes, sender_names = tables["sender_norm"]
    kept_codes, kept_names = tables["sender_kept"]
    client_codes, client_names = tables["client_norm"]
    company_codes, company_names = tables["company_norm"]
    sender_norm = credits["sender_norm"].to_numpy(dtype=object)
    # the sender as printed, a trailing "degree" kept: banks cut "SETIAWAN" to "SE" (see names)
    kept_differs = credits["sender_kept"].to_numpy(dtype=object) != sender_norm
    sc, kc = sender_codes[c], kept_codes[c]
    cut = kept_differs[c]
    no_sender = (sender_norm == "")[c]
    clients, companies = client_codes[i], company_codes[i]

    # a bank cuts the sender's name, never the client's or the one typed in a confirmation: a
    # prefix counts as the same name only when the sender is the shorter one, and printed long
    # enough to be a cut (names.SHORTEST_CUT_CHARS)
    whole = ~credits["sender_may_be_cut"].to_numpy(dtype=bool)[c]

    def similarity(
        codes: npt.NDArray[np.int64], names: npt.NDArray[np.object_]
    ) -> npt.NDArray[np.int64]:
        sim = coded_similarity(sc, sender_names, codes, names, truncated="left")
        if cut.any():
            sim[cut] = np.maximum(
                sim[cut],
                coded_similarity(kc[cut], kept_names, codes[cut], names, truncated="left"),
            )
        again = whole & (sim == 100)  # the few a prefix made equal: measured as whole names
        if again.any():
            sim[again] = coded_similarity(sc[again], sender_names, codes[again], names,
                                          truncated="none")  # fmt: skip
        return sim

    client_sim = similarity(clients, client_names)
    company_sim = similarity(companies, company_names)
    safe_f = np.maximum(f, 0)

    def conf_column(column: str, default: object) -> npt.NDArray[np.object_]:
        fallback: npt.NDArray[np.object_] = np.full(len(pairs), default, dtype=object)
        if not len(confirmations):
            return fallback
        values = confirmations[column].to_numpy(dtype=object, na_value=default)[safe_f]
        chosen: npt.NDArray[np.object_] = np.where(has_conf, values, fallback)
        return chosen

    strong = rules.name_match_min
    conf_codes, conf_table = tables["name_norm"]
    no_name = len(conf_table) - 1
    conf_names = np.where(has_conf, conf_codes[safe_f] if len(conf_codes) else no_name, no_name)
    conf_sim = similarity(conf_names, conf_table)
    # a confirmation typed by another payer (its name not the sender's, nor the start of it)
    # is not this transfer's: it is no evidence here, not even "disagreeing"
    conf_named = (conf_table != "")[conf_names]
    other_payer = has_conf & ~no_sender & conf_named & (conf_sim < 100)
    # nor is one for another amount when this credit is only part of the invoice: 165.000
    # against a confirmed 550.000 for a 500.000 invoice (a mistyped amount beside money that
    # pays the invoice, or over-pays it, stays linked: CONFIRMATION_AMOUNT_MISMATCH)
    conf_amount_all = conf_column("amount_sen", -1).astype(np.int64)
    part = amount == "partial"
    other_payer |= has_conf & (conf_amount_all >= 0) & (conf_amount_all != credit_sen) & part
    has_conf = has_conf & ~other_payer
    conf_names = np.where(other_payer, no_name, conf_names)
    conf_sim = np.where(other_payer, 0, conf_sim)
    best_sim = np.maximum(np.maximum(client_sim, company_sim), conf_sim)
    sender = (sc, sender_names)
    fuzzy = (
        _agree_where(client_sim >= strong, sender, (clients, client_names))
        | _agree_where(company_sim >= strong, sender, (companies, company_names))
        | _agree_where(conf_sim >= strong, sender, (conf_names, conf_table))
    )
    name = _select(
        [
            pairs["alias"].to_numpy() == 1,
            client_sim == 100,
            company_sim == 100,
            conf_sim == 100,
            no_sender,
            fuzzy,
            best_sim >= WEAK_NAME_MIN,
        ],
        ["alias", "client", "company", "confirmation", "unknown", "fuzzy", "weak"],
        "different",
    )

    # how much of the name agrees: a longer common name is the better fit ("BAMBANG DHARMA LES"
    # over "BAMBANG DHARMA" for "Bambang Dharma Lestari"); ranks equal scores (assign.rank_of)
    def lengths(names: npt.NDArray[np.object_]) -> npt.NDArray[np.int64]:
        return np.fromiter(map(len, names.tolist()), dtype=np.int64, count=len(names))

    sender_chars = np.where(kept_differs, lengths(kept_names)[kept_codes],
                            lengths(sender_names)[sender_codes])[c]  # fmt: skip
    name_chars = np.select(
        [name == "alias", name == "client", name == "company", name == "confirmation"],
        [sender_chars, np.minimum(sender_chars, lengths(client_names)[clients]),
         np.minimum(sender_chars, lengths(company_names)[companies]),
         np.minimum(sender_chars, lengths(conf_table)[conf_names])],
        0,
    )  # fmt: skip

    conf_amount = conf_column("amount_sen", -1).astype(np.int64)
    conf_dest = conf_column("dest_account_no", "")
    conf_not_ours = conf_column("dest_not_ours", False).astype(bool)
    credit_account = credits["account_no"].to_numpy()[c]
    wrong_account = has_conf & (conf_not_ours | ((conf_dest != "") & (conf_dest != credit_account)))
    conf_amount_differs = has_conf & (conf_amount != credit_sen)
    confirmation = _select(
        [
            # the payer's name, or the invoice number the credit itself quotes, ties the
            # confirmation to this transfer
            has_conf & ~wrong_account & ~conf_amount_differs & (~no_sender | (ref_value > 0)),
            has_conf & ~wrong_account & ~conf_amount_differs,
            has_conf,
        ],
        ["agrees", "unnamed", "disagrees"],
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
    # the only open invoice of this amount, however old: the window of amount-only candidates
    # does not bound it (an older invoice of the same amount makes the code not unique)
    sole = pairs["same_amount"].to_numpy() == 1
    # a unique code identifies the invoice whoever sends it, unless the sender is named and is
    # plainly someone else (NAME_MISMATCH): then the amount alone may be a coincidence
    rarity = _select(
        [sole & (amount == "unique_code") & (name != "different")], ["sole_open"], "else"
    )

    scored = pairs.assign(
        fidx=np.where(has_conf, f, -1),
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
        name_chars=name_chars,
        gap_sen=gap,
        due_sen=due_sen,
        closed=closed,
        wrong_account=wrong_account,
        conf_amount_differs=conf_amount_differs,
        days_from_issue=issued_gap,
        days_after_due=after_due,
        after_due=after_due >= 1,  # a due date on a closed day runs to the next banking day
        # a unique-coded amount that another open invoice has as well: said in the reason
        code_shared=(amount == "unique_code") & (pairs["same_amount"].to_numpy() > 1),
    )
    total = np.zeros(len(pairs), dtype=np.int64)
    for comparison, levels in COMPARISONS.items():
        level = scored[comparison].cat
        table = np.array([levels[x] for x in level.categories], dtype=np.int64)
        weights = table[level.codes.to_numpy()]
        scored[f"w_{comparison}"] = weights
        total += weights
    scored["score"] = np.clip(total, 0, 100)
    scored["raw_score"] = total  # ranks candidates: evidence beyond 100 still counts
    # a confirmation that disagrees (another amount, another account) may be the payer's, but
    # it is no proof: its name alone does not identify the payer of this transfer
    named_by_dispute = (name == "confirmation") & (confirmation == "disagrees")
    scored["identified"] = (
        (reference != "none")
        | (name.isin(["alias", "client", "company", "confirmation", "fuzzy"]) & ~named_by_dispute)
        | (confirmation == "agrees")
        | (rarity == "sole_open")
    )
    return scored
