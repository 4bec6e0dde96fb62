"""Global assignment of credits to invoices: mutual best, never line by line; ties go to REVIEW.

Each pair has a rank: its unclipped score (``raw_score`` when present) first, then how much of the name agrees (``name_chars``: the
longer common name of a bank-cut sender is the better fit), then the smaller amount gap. In each round a pair is
accepted when it is the credit's single best *and* no other credit ranks higher on that
invoice. A credit whose best rank is shared by two or more invoices is ambiguous (REVIEW with
the candidates listed), never a guess, unless another credit takes one of those invoices in the
same round: then it is looked at again in the next round, without that invoice. Two credits
tied on one invoice: the earlier (posting date, then line id) takes the invoice; the other goes
on to its next candidate, or, having none, is the same payment sent twice (a duplicate). A
credit whose every candidate another credit took, ranking higher on it, is ``outranked`` (its
best candidate given: money for an invoice this run pays). Every round is vectorised (group-by), and the outcome depends only on the values,
not on the order of the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

_GAP_SPAN = 10**13  # sen; larger than any single transfer
_NAME_SPAN = 128  # characters of agreeing name counted
_MAX_SCORE = 2**63 // (_NAME_SPAN * _GAP_SPAN) - 1  # 7205: far above any sum of level weights


@dataclass(frozen=True)
class Assignment:
    accepted: pd.DataFrame  # cidx, iidx
    ambiguous: pd.DataFrame  # cidx, iidx (every tied candidate of an ambiguous credit)
    duplicates: pd.DataFrame  # cidx, iidx (credit tied with an earlier one on that invoice)
    # cidx, iidx: a credit all of whose candidates other credits took, each ranking higher on
    # it; iidx its best candidate (highest rank, then lowest iidx)
    outranked: pd.DataFrame


def rank_of(pairs: pd.DataFrame) -> npt.NDArray[np.int64]:
    gap = np.minimum(np.abs(pairs["gap_sen"].to_numpy(dtype=np.int64)), _GAP_SPAN - 1)
    score = pairs["raw_score" if "raw_score" in pairs else "score"].to_numpy(dtype=np.int64)
    chars = np.zeros(len(pairs), dtype=np.int64)
    if "name_chars" in pairs:
        chars = np.minimum(pairs["name_chars"].to_numpy(dtype=np.int64), _NAME_SPAN - 1)
    score = np.clip(score, -_MAX_SCORE, _MAX_SCORE)
    rank: npt.NDArray[np.int64] = (score * _NAME_SPAN + chars) * _GAP_SPAN - gap
    return rank


def assign(pairs: pd.DataFrame) -> Assignment:
    """``pairs``: cidx, iidx, score, gap_sen, posted_day, line_id (one row per credit-invoice)."""
    active = pairs[["cidx", "iidx", "posted_day", "line_id"]].assign(rank=rank_of(pairs))
    accepted: list[pd.DataFrame] = []
    ambiguous: list[pd.DataFrame] = []
    duplicates: list[pd.DataFrame] = []
    outranked: list[pd.DataFrame] = []
    while len(active):
        credit_best = active.groupby("cidx")["rank"].transform("max")
        invoice_best = active.groupby("iidx")["rank"].transform("max")
        top = active[active["rank"] == credit_best]
        ties = top.groupby("cidx")["iidx"].transform("size")
        mutual = top["rank"] == invoice_best[top.index]
        # a credit tied between invoices that nobody outranks it on: ambiguous
        all_mutual = mutual.groupby(top["cidx"]).transform("all")
        unclear = top[(ties > 1) & all_mutual]
        # a credit with a single best that nobody outranks: candidate winner
        clear = top[(ties == 1) & mutual]
        order = clear.sort_values(["iidx", "posted_day", "line_id"])
        first = ~order["iidx"].duplicated()
        winners = order[first]
        losers = order[~first]
        if unclear.empty and winners.empty:  # cannot happen: the top pair is always mutual
            raise AssertionError("assignment made no progress")
        won = winners["iidx"]
        # a tie one of whose invoices was just taken is no longer the same tie
        broken = unclear.loc[unclear["iidx"].isin(won), "cidx"]
        unclear = unclear[~unclear["cidx"].isin(broken)]
        rest = active[~active["iidx"].isin(won)]
        has_next = losers["cidx"].isin(rest["cidx"])
        accepted.append(winners[["cidx", "iidx"]])
        ambiguous.append(unclear[["cidx", "iidx"]])
        duplicates.append(losers.loc[~has_next, ["cidx", "iidx"]])
        done_credits = pd.concat([winners["cidx"], unclear["cidx"], losers.loc[~has_next, "cidx"]])
        # credits left without a candidate: every invoice they fit went to a better credit
        orphans = active[~active["cidx"].isin(rest["cidx"]) & ~active["cidx"].isin(done_credits)]
        if len(orphans):
            best = orphans[orphans["rank"] == orphans.groupby("cidx")["rank"].transform("max")]
            outranked.append(best.sort_values(["cidx", "iidx"]).drop_duplicates("cidx")[
                ["cidx", "iidx"]])  # fmt: skip
        active = rest[~rest["cidx"].isin(done_credits)]
    empty = pd.DataFrame({"cidx": np.array([], dtype=np.int64), "iidx": np.array([], np.int64)})
    return Assignment(
        accepted=pd.concat([empty, *accepted], ignore_index=True),
        ambiguous=pd.concat([empty, *ambiguous], ignore_index=True),
        duplicates=pd.concat([empty, *duplicates], ignore_index=True),
        outranked=pd.concat([empty, *outranked], ignore_index=True),
    )
