"""Which open credits a run decides: its new lines, and the earlier ones new evidence touches.

A run considers new lines, still-open invoices and pending confirmations. An earlier credit
still open (``UNMATCHED``, or ``REVIEW`` decided automatically; a person's decision is never
reopened) is decided again only when something it could be matched with, or compete with,
changed since the last matching run. The tests are the blocking keys of
:mod:`reconcile.candidates`, widened, never narrowed, so that every credit whose candidates
changed is selected (a few more are harmless: deciding them again gives the same decision):

1. **name**: its sender's block key (first ten characters of the normalised name) is the key of
   a new credit (two payments of one payer compete for that client's invoices), of a changed
   invoice's client or company, of a changed confirmation's "Nama di Rekening", or of a payer
   alias learned since;
2. **amount**: its amount, or its amount plus a typical transfer fee, is the amount of a new
   credit or the amount due of a changed invoice, and open invoices of that amount issued in its
   date window are few enough (≤ ``max_block_size``) for amount-only candidates to exist;
3. **confirmation**: a changed confirmation names its exact amount and a transfer date within
   the confirmation window of its posting date (how ``confirmation_links`` pairs them);
4. **number**: its message or description quotes the number of a changed invoice, of an
   invoice a changed confirmation names, or of an invoice a new credit quotes;
5. **proposal**: it is in REVIEW with a changed invoice among its candidates.

What a run itself changes (an invoice it pays) is a change for the next run, so effects of
effects settle within a run or two, each deciding few lines. A credit left out keeps its
decision; the reasons of crowded-amount credits ("fits N open invoices") are not refreshed for
every invoice paid meanwhile.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pandas as pd

from reconcile.calendar import BankingCalendar
from reconcile.candidates import (
    OPEN_STATUSES,
    TYPICAL_FEES_SEN,
    block_keys,
    day_numbers,
    expand_ranges,
    invoice_key,
    packed,
)
from reconcile.config import Matching
from reconcile.names import normalise_names

Mask = npt.NDArray[np.bool_]


def quoted_numbers(texts: pd.Series, digits: tuple[int, int]) -> pd.DataFrame:
    """(row, key) for every bare run of ``digits`` digits in each text, leading zeros dropped.

    One regular-expression scan over all texts joined (no Python call per text): a superset
    of what ``candidates.find_refs`` reads as an invoice reference.
    """
    values = texts.fillna("").astype(str).tolist()
    if not values:
        return pd.DataFrame({"row": np.zeros(0, np.int64), "key": np.zeros(0, object)})
    joined = "\n".join(values)
    ends = np.cumsum([len(v) + 1 for v in values])  # text i ends before ends[i]
    lo, hi = digits
    found = [(m.start(), m.group()) for m in re.finditer(rf"(?<!\d)\d{{{lo},{hi}}}(?!\d)", joined)]
    starts = np.fromiter((s for s, _ in found), dtype=np.int64, count=len(found))
    rows = np.searchsorted(ends, starts, side="right")
    keys = pd.Series([k for _, k in found], dtype=object).str.lstrip("0")
    return pd.DataFrame({"row": rows, "key": keys.to_numpy(dtype=object)})


def window_block_sizes(
    amount_sen: npt.NDArray[np.int64],
    posted_on: pd.Series,
    invoices: pd.DataFrame,
    rules: Matching,
    calendar: BankingCalendar,
) -> npt.NDArray[np.int64]:
    """Per credit and fee offset (columns): open invoices of that amount due in its window.

    The same windowed count ``candidates.amount_pairs`` makes before it materialises a block.
    """
    is_open = invoices["status"].isin(OPEN_STATUSES).to_numpy()
    due = (invoices["amount_sen"] - invoices["received_sen"]).to_numpy(dtype=np.int64)[is_open]
    keys = np.sort(packed(due, day_numbers(invoices["issued_on"][is_open])))
    posted = day_numbers(posted_on)
    start = calendar.add(posted_on, -rules.date_window_days).astype(np.int64)
    start = np.minimum(start, posted)
    sizes = []
    for offset in fee_offsets(rules):
        lo = np.searchsorted(keys, packed(amount_sen + offset, start), side="left")
        hi = np.searchsorted(keys, packed(amount_sen + offset, posted), side="right")
        sizes.append(hi - lo)
    return np.stack(sizes, axis=1)


def fee_offsets(rules: Matching) -> list[int]:
    limit_sen = int(rules.underpaid_tolerance.absolute * 100)
    return [0, *[f for f in TYPICAL_FEES_SEN if f <= limit_sen]]


def affected(
    credits: pd.DataFrame,
    invoices: pd.DataFrame,
    confirmations: pd.DataFrame,
    aliases: pd.DataFrame,
    *,
    new_lines: Mask,
    changed_invoices: Mask,
    changed_confirmations: Mask,
    changed_aliases: Mask,
    rules: Matching,
    calendar: BankingCalendar,
) -> Mask:
    """The credits to decide: ``new_lines`` and every earlier credit a change can reach.

    Frames as ``reconcile.store`` loads them (credits with ``candidates`` and ``invoice_nos``
    of their current decision, invoices with ``amount_sen``/``received_sen``); each mask is
    aligned with its frame.
    """
    selected = np.asarray(new_lines, dtype=bool).copy()
    old = ~selected
    if not old.any():
        return selected
    inv_c = invoices[changed_invoices]
    cf_c = confirmations[changed_confirmations]
    amount = credits["amount_sen"].to_numpy(dtype=np.int64)
    posted = pd.to_datetime(credits["posted_on"]).dt.normalize()

    # 1. name
    sender_key = block_keys(normalise_names(credits["counterparty"].tolist())).to_numpy()
    keys: set[str] = set(sender_key[selected].tolist())
    for column in ("client_name", "company_name"):
        keys |= set(block_keys(normalise_names(inv_c[column].tolist())).tolist())
    keys |= set(block_keys(normalise_names(cf_c["account_name"].tolist())).tolist())
    alias_senders = aliases.loc[np.asarray(changed_aliases, dtype=bool), "sender_norm"]
    keys |= set(block_keys(alias_senders.astype(str).reset_index(drop=True)).tolist())
    keys.discard("")
    hit = np.isin(sender_key, list(keys))

    # 2. amount (only where amount-only candidates exist)
    due_changed = (inv_c["amount_sen"] - inv_c["received_sen"]).to_numpy(dtype=np.int64)
    amounts = np.union1d(amount[selected], np.union1d(due_changed, inv_c["amount_sen"]))
    old_idx = np.flatnonzero(old & ~hit)
    sizes = window_block_sizes(amount[old_idx], posted.iloc[old_idx], invoices, rules, calendar)
    for column, offset in enumerate(fee_offsets(rules)):
        size = sizes[:, column]
        reach = (size > 0) & (size <= rules.max_block_size)
        reach &= np.isin(amount[old_idx] + offset, amounts)
        hit[old_idx[reach]] = True

    # 3. confirmation by amount and date
    with_amount = cf_c[cf_c["amount_sen"].notna() & cf_c["transfer_date"].notna()]
    if len(with_amount):
        credit_keys = packed(amount, day_numbers(posted))
        order = np.argsort(credit_keys, kind="stable")
        sorted_keys = credit_keys[order]
        conf_amount = with_amount["amount_sen"].to_numpy(dtype=np.int64)
        day = pd.to_datetime(with_amount["transfer_date"]).dt.normalize()
        first = packed(conf_amount, day_numbers(day) - 1)  # the typed date may be a day late
        last = packed(
            conf_amount, calendar.add(day, rules.confirmation_date_window_days).astype(np.int64)
        )
        lo = np.searchsorted(sorted_keys, first, side="left")
        hi = np.searchsorted(sorted_keys, last, side="right")
        _, pos = expand_ranges(lo, hi)
        hit[order[pos]] = True

    # 4. number
    numbers = set(invoice_key(inv_c["invoice_no"]).tolist())
    for quoted in cf_c["invoice_nos"].fillna("").astype(str).str.split(";"):
        numbers |= {q.lstrip("#").lstrip("0") for q in quoted if q}
    text = credits["message"].fillna("").astype(str) + " " + credits["description"].fillna("")
    digits = tuple(rules.invoice_number_digits)
    known = set(invoice_key(invoices["invoice_no"]).tolist())
    fresh = quoted_numbers(text[selected].reset_index(drop=True), digits)  # type: ignore[arg-type]
    numbers |= set(fresh["key"].tolist()) & known
    numbers.discard("")
    if numbers:
        rest = np.flatnonzero(old & ~hit)
        quotes = quoted_numbers(text.iloc[rest].reset_index(drop=True), digits)  # type: ignore[arg-type]
        hit[rest[quotes.loc[quotes["key"].isin(numbers), "row"].to_numpy()]] = True

    # 5. proposal
    if "candidates" in credits and len(inv_c):
        proposed = (
            credits["candidates"].fillna("").astype(str)
            + ";"
            + credits["invoice_nos"].fillna("").astype(str)
        )
        rows = np.flatnonzero(old & ~hit & (proposed != ";").to_numpy())
        changed_nos = set(inv_c["invoice_no"].astype(str).tolist())
        named = proposed.iloc[rows].str.split(";").tolist()
        touched = np.fromiter((not changed_nos.isdisjoint(p) for p in named), bool, len(rows))
        hit[rows[touched]] = True

    return selected | (old & hit)
