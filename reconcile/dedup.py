"""Idempotency keys for bank lines (pure).

A line's key is a hash of what identifies the transaction in every export of it:
* where the layout prints a running balance: direction, amount, balance after the row and the
  normalised description. The date is left out so that a BCA ``PEND`` row and the same
  transaction posted in the next export share the key (formats.md §3.1, §12.7);
* otherwise: posting date, direction, amount and normalised description.
Identical keys within one file are numbered (``occurrence`` 1, 2, …) in file order, so two
genuine identical transfers on one day stay two lines, while an overlapping export that repeats
them maps onto the same (key, occurrence) pairs. The database enforces uniqueness.

A key alone does not prove a repeat: with the balance printed, the same payment on another day
with the balance back where it was has the same key. The store pairs a row with a stored line
of its key only when the two are the same transaction (``store._same_transaction``: PEND, or
posted the same day) and gives a new one the key's next free occurrence.
"""

from __future__ import annotations

import hashlib

from reconcile.model import Direction, Transaction


def normalise_description(text: str) -> str:
    return " ".join(text.split()).upper()


def dedup_key(t: Transaction) -> str:
    """The row's idempotency key (see the module docstring)."""
    [(key, _)] = keys_with_occurrence([t])
    return key


def keys_with_occurrence(rows: list[Transaction]) -> list[tuple[str, int]]:
    """(key, occurrence) for each row, occurrence counted per account within this file.

    The key is the SHA-256 of ``B|direction|amount|balance|description`` or
    ``D|posting date or PEND|direction|amount|description`` (amounts written out in full, the
    description as :func:`normalise_description` gives it). Built inline, with one counter per
    account: a file has up to a hundred thousand rows, and per-row calls, enum lookups and
    tuple counting cost more than the hashing.
    """
    sha256 = hashlib.sha256
    direction_of = {d: d.value for d in Direction}
    seen: dict[str, dict[str, int]] = {}
    out: list[tuple[str, int]] = []
    append = out.append
    for t in rows:
        desc = " ".join(t.description.split()).upper()
        if t.balance is not None:
            material = f"B|{direction_of[t.direction]}|{t.amount:f}|{t.balance:f}|{desc}"
        else:
            day = t.posted_on.isoformat() if t.posted_on else "PEND"
            material = f"D|{day}|{direction_of[t.direction]}|{t.amount:f}|{desc}"
        k = sha256(material.encode("utf-8")).hexdigest()
        counts = seen.get(t.account_no)
        if counts is None:
            counts = seen[t.account_no] = {}
        n = counts[k] = counts.get(k, 0) + 1
        append((k, n))
    return out
