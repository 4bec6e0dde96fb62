"""Idempotency keys for bank lines (pure).

A line's key is a hash of what identifies the transaction in every export of it:
* where the layout prints a running balance: direction, amount, balance after the row and the
  normalised description. The date is left out so that a BCA ``PEND`` row and the same
  transaction posted in the next export share the key (formats.md §3.1, §12.7);
* otherwise: posting date, direction, amount and normalised description.
Identical keys within one file are numbered (``occurrence`` 1, 2, …) in file order, so two
genuine identical transfers on one day stay two lines, while an overlapping export that repeats
them maps onto the same (key, occurrence) pairs. The database enforces uniqueness.
"""

from __future__ import annotations

import hashlib
from collections import Counter

from reconcile.model import Transaction


def normalise_description(text: str) -> str:
    return " ".join(text.split()).upper()


def dedup_key(t: Transaction) -> str:
    desc = normalise_description(t.description)
    if t.balance is not None:
        material = f"B|{t.direction.value}|{t.amount:f}|{t.balance:f}|{desc}"
    else:
        day = t.posted_on.isoformat() if t.posted_on else "PEND"
        material = f"D|{day}|{t.direction.value}|{t.amount:f}|{desc}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def keys_with_occurrence(rows: list[Transaction]) -> list[tuple[str, int]]:
    """(key, occurrence) for each row, occurrence counted per account within this file."""
    seen: Counter[tuple[str, str]] = Counter()
    out: list[tuple[str, int]] = []
    for t in rows:
        k = dedup_key(t)
        seen[(t.account_no, k)] += 1
        out.append((k, seen[(t.account_no, k)]))
    return out
