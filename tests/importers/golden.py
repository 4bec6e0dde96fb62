"""Golden-file serialisation of parsed statements: readable, one transaction per line."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date, time
from decimal import Decimal
from enum import Enum
from typing import Any

from reconcile.model import Statement, Transaction

STATEMENT_FIELDS = [
    "bank",
    "layout",
    "account_no",
    "currency",
    "period_start",
    "period_end",
    "opening_balance",
    "closing_balance",
    "total_credit",
    "total_debit",
    "count_credit",
    "count_debit",
    "holder_name",
    "warnings",
]


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return f"{value:f}"  # exact amount strings, never floats
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    raise TypeError(f"cannot serialise {type(value).__name__}")


def transaction_dict(t: Transaction) -> dict[str, Any]:
    return {f.name: _plain(getattr(t, f.name)) for f in fields(t)}


def dump_statements(statements: list[Statement]) -> str:
    out: list[str] = ["["]
    for i, st in enumerate(statements):
        head = {name: _plain(getattr(st, name)) for name in STATEMENT_FIELDS}
        out.append(" {")
        for name, value in head.items():
            out.append(f"  {json.dumps(name)}: {json.dumps(value, ensure_ascii=False)},")
        out.append('  "transactions": [')
        rows = [json.dumps(transaction_dict(t), ensure_ascii=False) for t in st.transactions]
        out.append(",\n".join(f"   {r}" for r in rows))
        out.append("  ]")
        out.append(" }" + ("," if i < len(statements) - 1 else ""))
    out.append("]")
    return "\n".join(out) + "\n"
