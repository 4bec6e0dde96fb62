"""Which open credits a run decides: its new lines, and the earlier ones new evidence touches.

A run considers new lines, still-open invoices and pending confirmations. An earlier credit
still open (``UNMATCHED``, or ``REVIEW`` decided automatically; a person's decision is never
reopened) is decided again only when something it could be matched with, or compete with,
changed since the last matching run. The tests are the blocking keys of
:mod:`reconcile.candidates`, widened, never narrowed, so that every credit whose candidates
changed is selected (a few more are harmless: deciding them again gives the same decision):

1. **name**: its sender's block key (first ten characters of the normalised name) is the key of
   a changed
   invoice's client or company, of a changed confirmation's "Nama di Rekening", or of a payer
   alias learned since;
2. **amount**: its amount, or its amount plus a typical transfer fee, is the amount due of a
   changed invoice, and open invoices of that amount issued in its date window are few enough
   (≤ ``max_block_size``) for amount-only candidates to exist;
3. **confirmation**: a changed confirmation names its exact amount and a transfer date within
   the confirmation window of its posting date (how ``confirmation_links`` pairs them);
4. **number**: its message or description quotes the number of a changed invoice or of an
   invoice a changed confirmation names;
5. **rival**: it had candidates (REVIEW with invoices proposed) and a new credit may claim the
   same invoice: the same sender key, where that key can reach an invoice (a client's or
   company's, an open confirmation's, an alias sender's), the same rare amount, or the same
   quoted invoice number; or a changed invoice is among its candidates. A credit that had no
   candidate loses none to a newcomer: only changed evidence can give it one.

What a run itself changes (an invoice it pays) is a change for the next run, so effects of
effects settle within a run or two, each deciding few lines. A credit left out keeps its
decision; the reasons of crowded-amount credits ("fits N open invoices") are not refreshed for
every invoice paid meanwhile.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from reconcile.calendar import BankingCalendar
from reconcile.candidates import (
    OPEN_STATUSES,
    amount_windows,
    block_keys,
    day_numbers,
    expand_ranges,
    fee_offsets,
    invoice_key,
    packed,
    quoted_refs,
)
from reconcile.config import Matching
from reconcile.names import normalise_names

Mask = npt.NDArray[np.bool_]


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
    windows = amount_windows(keys, amount_sen, posted_on, rules, calendar)
    return np.stack([hi - lo for _, lo, hi in windows], axis=1)


def _claimable_keys(
    invoices: pd.DataFrame, confirmations: pd.DataFrame, aliases: pd.DataFrame
) -> set[str]:
    """Sender keys through which two credits can claim the same invoice: those of clients and
    companies with an invoice a name can reach (open, or marked paid with no money seen), of
    open confirmations' account names, and of alias senders. Two payers sharing any other key
    have no name candidate to compete for."""
    status = invoices["status"]
    reachable = status.isin(OPEN_STATUSES) | ((status == "PAID") & (invoices["received_sen"] == 0))
    names = (
        pd.concat(
            [
                invoices.loc[reachable, "client_name"],
                invoices.loc[reachable, "company_name"],
                confirmations["account_name"] if len(confirmations) else pd.Series(dtype=object),
            ]
        )
        .dropna()
        .astype(str)
        .drop_duplicates()
    )
    keys = set(block_keys(normalise_names(names.tolist())).tolist())
    keys |= set(block_keys(aliases["sender_norm"].astype(str).reset_index(drop=True)).tolist())
    return keys


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
    proposed = (
        credits["candidates"].fillna("").astype(str) + ";" + credits["invoice_nos"].fillna("")
        if "candidates" in credits
        else pd.Series(";", index=credits.index)
    )
    # a new credit competes only with earlier ones that had a candidate to lose: a credit with
    # no candidate (UNMATCHED, or an amount too common to propose any) gains none from it
    rivals = old & (proposed != ";").to_numpy()
    hit = np.zeros(len(credits), dtype=bool)

    # 1. name
    sender_key = block_keys(normalise_names(credits["counterparty"].tolist())).to_numpy()
    by_key = pd.Series(sender_key)
    rival_keys = set(sender_key[selected].tolist()) & _claimable_keys(
        invoices, confirmations, aliases
    )
    keys: set[str] = set()
    for column in ("client_name", "company_name"):
        keys |= set(block_keys(normalise_names(inv_c[column].tolist())).tolist())
    keys |= set(block_keys(normalise_names(cf_c["account_name"].tolist())).tolist())
    alias_senders = aliases.loc[np.asarray(changed_aliases, dtype=bool), "sender_norm"]
    keys |= set(block_keys(alias_senders.astype(str).reset_index(drop=True)).tolist())
    keys.discard("")
    rival_keys.discard("")
    hit |= old & by_key.isin(keys).to_numpy()  # hashed; np.isin would sort objects
    hit |= rivals & by_key.isin(rival_keys).to_numpy()

    # 2. amount (only where amount-only candidates exist)
    due_changed = (inv_c["amount_sen"] - inv_c["received_sen"]).to_numpy(dtype=np.int64)
    changed_amounts = np.union1d(due_changed, inv_c["amount_sen"].to_numpy(dtype=np.int64))
    new_amounts = np.unique(amount[selected])
    rest = np.flatnonzero(old & ~hit)
    sizes = window_block_sizes(amount[rest], posted.iloc[rest], invoices, rules, calendar)
    for k, offset in enumerate(fee_offsets(rules)):
        size = sizes[:, k]
        reach = (size > 0) & (size <= rules.max_block_size)
        value = amount[rest] + offset
        reach &= np.isin(value, changed_amounts) | (
            rivals[rest] & np.isin(amount[rest], new_amounts)
        )
        hit[rest[reach]] = True

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
    known = set(invoice_key(invoices["invoice_no"]).tolist())
    fresh = quoted_refs(text[selected].tolist(), rules)
    rival_numbers = set(fresh["key"].tolist()) & known
    numbers.discard("")
    if numbers or rival_numbers:
        rest = np.flatnonzero(old & ~hit)
        quotes = quoted_refs(text.iloc[rest].tolist(), rules)
        row = quotes["row"].to_numpy()
        reach = quotes["key"].isin(numbers).to_numpy() | (
            quotes["key"].isin(rival_numbers).to_numpy() & rivals[rest[row]]
        )
        hit[rest[row[reach]]] = True

    # 5. proposal
    if len(inv_c):
        rows = np.flatnonzero(rivals & ~hit)
        changed_nos = set(inv_c["invoice_no"].astype(str).tolist())
        named = proposed.iloc[rows].str.split(";").tolist()
        touched = np.fromiter((not changed_nos.isdisjoint(p) for p in named), bool, len(rows))
        hit[rows[touched]] = True

    return selected | (old & hit)
