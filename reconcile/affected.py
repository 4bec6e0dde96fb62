"""Which open credits a run decides: its new lines, and the earlier ones new evidence touches.

A run considers new lines, still-open invoices and pending confirmations. An earlier credit
still open (``UNMATCHED``, or ``REVIEW`` decided automatically; a person's decision is never
reopened) is decided again only when something it could be matched with, or compete with,
changed since the last matching run. The tests are the blocking keys of
:mod:`reconcile.candidates`, widened, never narrowed, so that every credit whose candidates
changed is selected (a few more are harmless: deciding them again gives the same decision):

1. **name**: its sender's block key (first ten characters of the normalised name) is the key of
   a changed invoice's client or company, of a changed confirmation's "Nama di Rekening", or
   of a payer alias a person added since;
2. **amount**: its amount, or its amount plus a typical transfer fee, is the amount due of a
   changed invoice, and open invoices of that amount issued in its date window are few enough
   (≤ ``max_block_size``) for amount-only candidates to exist;
3. **confirmation**: a changed confirmation names its exact amount and a transfer date within
   the confirmation window of its posting date (how ``confirmation_links`` pairs them);
4. **number**: its message or description quotes the number of a changed invoice or of an
   invoice a changed confirmation names;
5. **rival**: it had candidates (REVIEW with invoices proposed) and one of them is among the
   invoices a new credit could be matched with (``matching.claimable_invoices``: the new
   credits' viable pairs), so the two must be decided together; or a changed invoice is among
   its proposals. A credit that had no candidate loses none to a newcomer: only changed
   evidence can give it one.
6. **settled**: it was decided before the last matching run and proposes an invoice that run
   paid or changed, or its sender's key is that of an alias that run learned (what a run settles is seen by the credits it decided, and by the others
   on the next run: effects of effects settle within a run or two, each deciding few lines).

A credit left out keeps its decision; the reasons of crowded-amount credits ("fits N open
invoices") are not refreshed for every invoice paid meanwhile.
"""

from __future__ import annotations

from collections.abc import Collection

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
    settled_aliases: Mask,
    settled_invoices: Collection[str],
    stale: Mask,
    claimable: Collection[str],
    rules: Matching,
    calendar: BankingCalendar,
) -> Mask:
    """The credits to decide: ``new_lines`` and every earlier credit a change can reach.

    Frames as ``reconcile.store`` loads them (credits with ``candidates`` and ``invoice_nos``
    of their current decision, invoices with ``amount_sen``/``received_sen``); each mask is
    aligned with its frame (``invoices``: at least the open ones and those changed since the
    last matching run). ``settled_invoices``: the numbers of the invoices the last matching
    run changed; ``settled_aliases``: the aliases it learned; ``stale``: credits decided
    before that run; ``claimable``: invoice numbers the new lines could be matched with.
    """
    selected = np.asarray(new_lines, dtype=bool).copy()
    old = ~selected
    if not old.any():
        return selected
    inv_c = invoices[changed_invoices]
    cf_c = confirmations[changed_confirmations]
    amount = credits["amount_sen"].to_numpy(dtype=np.int64)
    posted = pd.to_datetime(credits["posted_on"]).dt.normalize()
    if "candidates" in credits:
        proposed = (credits["candidates"] + ";" + credits["invoice_nos"]).to_numpy(dtype=object)
    else:
        proposed = np.full(len(credits), ";", dtype=object)
    # a new credit competes only with earlier ones that had a candidate to lose: a credit with
    # no candidate (UNMATCHED, or an amount too common to propose any) gains none from it
    rivals = old & (proposed != ";")
    hit = np.zeros(len(credits), dtype=bool)

    # 1. name (the senders' names are normalised only when some key changed)
    keys: set[str] = set()
    for column in ("client_name", "company_name"):
        keys |= set(block_keys(normalise_names(inv_c[column].tolist())).tolist())
    keys |= set(block_keys(normalise_names(cf_c["account_name"].tolist())).tolist())
    alias_senders = aliases.loc[np.asarray(changed_aliases, dtype=bool), "sender_norm"]
    keys |= set(block_keys(alias_senders.astype(str).reset_index(drop=True)).tolist())
    keys.discard("")
    stale = np.asarray(stale, dtype=bool)
    learned = aliases.loc[np.asarray(settled_aliases, dtype=bool) & stale.any(), "sender_norm"]
    learned_keys = set(block_keys(learned.astype(str).reset_index(drop=True)).tolist()) - {""}
    if keys or learned_keys:
        names = normalise_names(credits["counterparty"].tolist())
        by_key = pd.Series(block_keys(names).to_numpy())
        hit |= old & by_key.isin(keys).to_numpy()  # hashed; np.isin would sort objects
        hit |= old & stale & by_key.isin(learned_keys).to_numpy()

    # 2. amount (only where amount-only candidates exist: windows counted for the few credits
    # whose amount, or amount plus a fee, is that of a changed invoice)
    due_changed = (inv_c["amount_sen"] - inv_c["received_sen"]).to_numpy(dtype=np.int64)
    changed_amounts = np.union1d(due_changed, inv_c["amount_sen"].to_numpy(dtype=np.int64))
    offsets = fee_offsets(rules)
    rest = np.flatnonzero(old & ~hit)
    rest = rest[np.isin(amount[rest][:, None] + np.array(offsets), changed_amounts).any(axis=1)]
    sizes = window_block_sizes(amount[rest], posted.iloc[rest], invoices, rules, calendar)
    for k, offset in enumerate(offsets):
        size = sizes[:, k]
        reach = (size > 0) & (size <= rules.max_block_size)
        value = amount[rest] + offset
        reach &= np.isin(value, changed_amounts)
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
    numbers.discard("")
    if numbers:
        text = credits["message"].fillna("").astype(str) + " " + credits["description"].fillna("")
        rest = np.flatnonzero(old & ~hit)
        quotes = quoted_refs(text.iloc[rest].tolist(), rules)
        row = quotes["row"].to_numpy()
        hit[rest[row[quotes["key"].isin(numbers).to_numpy()]]] = True

    # 5. rival and 6. settled: an invoice the earlier credit proposed (set tests per credit:
    # a few hundred thousand short strings, no frame of their parts)
    contested = set(claimable) | set(inv_c["invoice_no"].astype(str))
    rows = np.flatnonzero(rivals & ~hit)
    hit[rows] = [not contested.isdisjoint(p.split(";")) for p in proposed[rows].tolist()]
    settled = set(settled_invoices)
    rows = np.flatnonzero(rivals & ~hit & stale) if settled else rows[:0]
    hit[rows] = [not settled.isdisjoint(p.split(";")) for p in proposed[rows].tolist()]

    return selected | (old & hit)
