"""The matching core: ``decide(credits, invoices, confirmations, aliases, rules, as_of)``.

Pure (frames in, frames out, integer sen; no files, no database, no clock). The steps:
candidates (``reconcile.candidates``) → scoring (``reconcile.scoring``) → instalments and
combined payments → global assignment (``reconcile.assign``) → lines, allocations, invoice
and confirmation outcomes with codes and a one-line reason a person understands.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from reconcile import forked
from reconcile.assign import assign, rank_of
from reconcile.calendar import BankingCalendar
from reconcile.candidates import (
    OPEN_STATUSES,
    NameSides,
    amount_pairs,
    block_keys,
    confirmation_links,
    confirmation_pairs,
    credit_refs,
    find_refs,
    invoice_key,
    name_pairs,
    name_sides,
)
from reconcile.config import Matching
from reconcile.errors import ReconcileError
from reconcile.money import rupiah_text
from reconcile.names import DEGREES_AT_END, SHORTEST_CUT_CHARS, normalise_names
from reconcile.scoring import AMOUNT_LEVELS, Tables, name_tables, score_pairs, tolerance_sen

log = logging.getLogger("reconcile.matching")


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


def note_repeat_payments(
    lines: pd.DataFrame, credits: pd.DataFrame, paid: pd.DataFrame
) -> pd.DataFrame:
    """Credits nothing open fits (UNMATCHED) whose sender is, by name, the client (or company)
    of an invoice of that very amount already paid (``paid``: invoice_no, client_name,
    company_name, amount_sen; by an earlier run, a person or the billing system): a customer
    paying twice is a duplicate payment to refund, not an unidentified credit. Such a line
    goes to review, DUPLICATE_PAYMENT, with those invoices as candidates; never applied."""
    lonely = lines["status"].to_numpy() == LineStatus.UNMATCHED.value
    if not lonely.any() or not len(paid):
        return lines
    ids = lines["line_id"].to_numpy(dtype=np.int64)[lonely]
    cr = credits.set_index("line_id").loc[ids]
    senders = pd.DataFrame(
        {"line_id": ids, "amount_sen": cr["amount_sen"].to_numpy(dtype=np.int64),
         "name": normalise_names(cr["counterparty"]).to_numpy()}
    )  # fmt: skip
    senders = senders[senders["name"] != ""]
    names = pd.concat(
        [
            pd.DataFrame({"invoice_no": paid["invoice_no"].astype(str).to_numpy(),
                          "amount_sen": paid["amount_sen"].to_numpy(dtype=np.int64),
                          "name": normalise_names(paid[column]).to_numpy()})
            for column in ("client_name", "company_name")
        ],
        ignore_index=True,
    )  # fmt: skip
    hits = senders.merge(names[names["name"] != ""], on=["amount_sen", "name"])
    if not len(hits):
        return lines
    hits = hits.drop_duplicates(["line_id", "invoice_no"]).sort_values(["line_id", "invoice_no"])
    per_line = hits.groupby("line_id")["invoice_no"].agg(";".join)
    at = np.isin(lines["line_id"].to_numpy(dtype=np.int64), per_line.index)
    nos = per_line.reindex(lines["line_id"].to_numpy(dtype=np.int64)[at]).tolist()
    reasons = [
        "the sender's invoice " + ", ".join(f"#{n}" for n in no.split(";"))
        + " of this amount is already paid: a second payment to refund, or another invoice"
        for no in nos
    ]  # fmt: skip
    return _to_review(lines, at, Code.DUPLICATE_PAYMENT, nos, reasons)


def _to_review(
    lines: pd.DataFrame, at: npt.NDArray[np.bool_], code: Code, candidates: list[str],
    reasons: list[str],
) -> pd.DataFrame:  # fmt: skip
    """``lines`` with the rows ``at`` sent to review: their code, candidate invoices and
    reason (one each, in row order); the other rows as they are."""
    status = lines["status"].to_numpy(dtype=object).copy()
    codes = lines["codes"].to_numpy(dtype=object).copy()
    reason = lines["reason"].to_numpy(dtype=object).copy()
    proposed = lines["candidates"].to_numpy(dtype=object).copy()
    status[at] = LineStatus.REVIEW.value
    codes[at] = code.value
    proposed[at] = candidates
    reason[at] = reasons
    return lines.assign(status=status, codes=codes, reason=reason, candidates=proposed)


def _cancelled_under(nos: list[str]) -> str:
    refs = ", ".join(f"#{n}" for n in nos)
    if len(nos) == 1:
        return f"invoice {refs} it paid was cancelled in the billing system"
    return f"invoices {refs} it paid were cancelled in the billing system"


def note_withdrawn(lines: pd.DataFrame, withdrawn: Mapping[int, str]) -> pd.DataFrame:
    """The decisions of lines whose payment was withdrawn because the billing system cancelled
    the invoice it paid (``withdrawn``: line id -> those invoice numbers): the reason says so
    first; a line nothing else fits goes to review with PAYMENT_ON_CLOSED_INVOICE and those
    invoices as candidates (refund it, or assign it), not to the unidentified credits."""
    if not withdrawn or not len(lines):
        return lines
    ids = lines["line_id"].to_numpy(dtype=np.int64)
    hit = np.isin(ids, np.fromiter(withdrawn, dtype=np.int64, count=len(withdrawn)))
    if not hit.any():
        return lines
    said = np.full(len(lines), "", dtype=object)
    said[hit] = [_cancelled_under(withdrawn[int(i)].split(";")) for i in ids[hit].tolist()]
    lonely = hit & (lines["status"].to_numpy() == LineStatus.UNMATCHED.value)
    placed = hit & ~lonely
    reason = lines["reason"].to_numpy(dtype=object).copy()
    reason[placed] = [f"{s}; {r}" for s, r in zip(said[placed], reason[placed], strict=True)]
    return _to_review(
        lines.assign(reason=reason), lonely, Code.PAYMENT_ON_CLOSED_INVOICE,
        [withdrawn[int(i)] for i in ids[lonely].tolist()],
        [f"{s}: refund it or assign it to another invoice" for s in said[lonely]],
    )  # fmt: skip


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReconcileError(f"decide(): the {what} frame lacks column(s) {', '.join(missing)}")


@dataclass(frozen=True)
class Book:
    """Invoices and confirmations prepared for matching (positions fixed by key order, names
    normalised, block keys): prepared once per run and shared by :func:`claimable_invoices`
    and :func:`decide`."""

    invoices: pd.DataFrame
    confirmations: pd.DataFrame
    _sides: dict[int, NameSides] = field(default_factory=dict, compare=False, repr=False)

    def name_sides(self, rules: Matching) -> NameSides:
        """The invoices' side of the name blocks (built once, shared by every caller)."""
        if rules.max_block_size not in self._sides:
            self._sides[rules.max_block_size] = name_sides(self.invoices, rules)
        return self._sides[rules.max_block_size]

    def with_invoices(self, more: pd.DataFrame) -> Book:
        """The book with ``more`` closed invoices (not in it yet) prepared and added in key
        order (an incremental run's book: those its credits name by number)."""
        if not len(more):
            return self
        _require(more, INVOICE_COLUMNS, "invoices")
        coded = [c for c in self.invoices.columns if c.endswith("_code")]
        added = _prepare_invoices(more)
        # both frames are in key order and share no key: each row's place in the merged order
        # is its own position plus the rows of the other frame before it (no sort of strings)
        old_keys = self.invoices["invoice_no"].to_numpy(dtype=object)
        at = np.searchsorted(old_keys, added["invoice_no"].to_numpy(dtype=object))
        moved = np.arange(len(old_keys)) + np.searchsorted(at, np.arange(len(old_keys)), "right")
        order = np.empty(len(old_keys) + len(at), dtype=np.int64)
        order[moved] = np.arange(len(old_keys))
        order[at + np.arange(len(at))] = len(old_keys) + np.arange(len(at))
        both = pd.concat(
            [self.invoices.drop(columns=coded), added.drop(columns=coded)], ignore_index=True
        )
        both = both.iloc[order].reset_index(drop=True)
        book = Book(_with_codes(both, "client_norm", "company_norm"), self.confirmations)
        # name blocks hold open invoices and those marked paid with no money seen: when none
        # is added, the same rows, moved
        reachable = more["status"].isin(OPEN_STATUSES) | (
            (more["status"] == "PAID") & (more["received_sen"] == 0)
        )
        for size, sides in self._sides.items() if not reachable.any() else ():
            book._sides[size] = NameSides(
                tuple((kind, f.assign(iidx=moved[f["iidx"].to_numpy()])) for kind, f in sides.keys),
                sides.clients.assign(iidx=moved[sides.clients["iidx"].to_numpy()]),
            )
        return book


def prepare_book(invoices: pd.DataFrame, confirmations: pd.DataFrame) -> Book:
    _require(invoices, INVOICE_COLUMNS, "invoices")
    _require(confirmations, CONFIRMATION_COLUMNS, "confirmations")
    return Book(_prepare_invoices(invoices), _prepare_confirmations(confirmations))


def referenced_keys(credits: pd.DataFrame, book: Book, rules: Matching) -> set[str]:
    """Invoice numbers (``invoice_key`` form) that the credits quote or that an open
    confirmation names and that the book lacks: a book of the matchable invoices only
    (``store.load_invoices(matchable_since=...)``) needs them added before :func:`decide`,
    which pairs a quoted number with its invoice whatever its status."""
    keys = set(credit_refs(credits, rules)["key"].tolist())
    cf = book.confirmations
    for named in cf.loc[~cf["closed"].to_numpy(dtype=bool), "invoice_keys"].tolist():
        keys.update(named)
    return keys - set(book.invoices["inv_key"].tolist()) - {""}


def _with_codes(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``<column>_code``: each name's position among the column's distinct names, so that
    scoring pairs names by number (``scoring._table``)."""
    for column in columns:
        frame[f"{column}_code"] = pd.factorize(frame[column], use_na_sentinel=False)[0]
    return frame


def _in_line_order(credits: pd.DataFrame) -> pd.DataFrame:
    return credits.sort_values("line_id", kind="stable").reset_index(drop=True)


def _quoting_columns(cr: pd.DataFrame) -> dict[str, pd.Series]:
    """The columns ``credit_refs`` reads (amounts, texts without NULL), prepared."""
    return {
        "amount_sen": cr["amount_sen"].astype(np.int64),
        "message": cr["message"].fillna("").astype(str),
        "description": cr["description"].fillna("").astype(str),
    }


def _sender_columns(credits: pd.DataFrame) -> pd.DataFrame:
    """What scoring reads of the senders (``counterparty``, credits in line order): the name
    normalised, its block key, the name with a trailing degree kept, and codes of both."""
    senders = pd.DataFrame({"counterparty": credits["counterparty"].to_numpy()})
    senders["sender_norm"] = normalise_names(senders["counterparty"]).to_numpy()
    senders["sender_key"] = block_keys(senders["sender_norm"]).to_numpy()
    senders["sender_kept"] = _degree_kept(senders["counterparty"], senders["sender_norm"])
    senders["sender_may_be_cut"] = _may_be_cut(senders["counterparty"])
    return _with_codes(senders, "sender_norm", "sender_kept").drop(columns="counterparty")


def _may_be_cut(raw: pd.Series) -> npt.NDArray[np.bool_]:
    """Per sender: printed at least ``SHORTEST_CUT_CHARS`` long (spaces collapsed), so the
    bank may have cut it (formats.md §8.7); a shorter one is the whole name ("MUHAMMAD ALI"
    is not a cut of "MUHAMMAD ALIMIN"). Each distinct printed name measured once."""
    codes, printed = pd.factorize(raw.fillna("").astype(str).to_numpy(dtype=object))
    lengths = np.fromiter(
        (len(" ".join(p.split())) for p in printed.tolist()), dtype=np.int64, count=len(printed)
    )
    return lengths[codes] >= SHORTEST_CUT_CHARS


def _prepare_credits(credits: pd.DataFrame, texts: _Forked | None = None) -> pd.DataFrame:
    """The credits in line order, with what matching derives from them (``texts``: the sender
    columns being found in a child, see :func:`start_credit_texts`)."""
    cr = _in_line_order(credits)
    cr = cr.assign(posted_on=pd.to_datetime(cr["posted_on"]).dt.normalize(), **_quoting_columns(cr))
    here = lambda: _sender_columns(cr)  # noqa: E731
    senders = texts.answer(here, last=False) if texts is not None else here()
    for column in senders.columns:
        cr[column] = senders[column].to_numpy()
    return cr


def _prepare_invoices(invoices: pd.DataFrame) -> pd.DataFrame:
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
    return _with_codes(inv, "client_norm", "company_norm")


def _prepare_confirmations(confirmations: pd.DataFrame) -> pd.DataFrame:
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
    cf["ticket_rank"] = cf["ticket_id"].astype(str).rank(method="first").to_numpy(np.int64) - 1
    for column in ("intake_reason", "codes", "line_ids", "reason"):  # earlier runs' outcome
        values = cf[column] if column in cf else pd.Series("", index=cf.index, dtype=object)
        cf[column] = values.fillna("").astype(str)
    return _with_codes(cf, "name_norm")


def _degree_kept(raw: pd.Series, normalised: pd.Series) -> npt.NDArray[np.object_]:
    """The normalised sender with a trailing "degree" kept ('IBU TEGUH PUTRA SE' -> 'TEGUH PUTRA SE').

    ``normalise_names`` drops a last token such as SE, ST or SH as an academic degree, but a bank
    that cuts names at 18 characters leaves exactly such a stub of a family name ("SETIAWAN").
    Scoring compares both forms. Only senders whose last printed token is a degree are
    normalised again (with a digit token after it, which protects it, then removed).
    """
    kept = normalised.to_numpy(dtype=object).copy()
    codes, printed = pd.factorize(raw.fillna("").astype(str).to_numpy(dtype=object))
    last = pd.Series(printed).str.upper().str.strip().str.rsplit(" ", n=1).str[-1]  # per name
    cut = last.str.replace(".", "", regex=False).isin(DEGREES_AT_END).to_numpy()[codes]
    if cut.any():
        again = normalise_names((raw[cut].astype(str) + " 0").tolist())
        kept[cut] = again.str.removesuffix(" 0").to_numpy(dtype=object)
    return kept


def _candidate_pairs(
    cr: pd.DataFrame,
    book: Book,
    aliases: pd.DataFrame,
    rules: Matching,
    calendar: BankingCalendar,
) -> tuple[pd.DataFrame, np.ndarray]:
    inv, cf = book.invoices, book.confirmations
    refs = find_refs(cr, inv, rules)
    links = confirmation_links(cr, cf, rules, calendar, refs, inv) if len(cf) else None
    return _pairs_between(cr, 0, len(cr), book, aliases, rules, calendar, refs, links)


def _pairs_between(
    cr: pd.DataFrame, lo: int, hi: int, book: Book, aliases: pd.DataFrame, rules: Matching,
    calendar: BankingCalendar, refs: pd.DataFrame, links: pd.DataFrame | None,
) -> tuple[pd.DataFrame, npt.NDArray[np.int64]]:  # fmt: skip
    """The candidate pairs of credits lo..hi-1 (``cidx`` among all credits), given their
    quoted numbers and confirmation links (found over all credits), and their exact amount
    blocks."""
    inv, cf = book.invoices, book.confirmations
    part = cr if (lo, hi) == (0, len(cr)) else _credit_slice(cr, lo, hi)
    amount, block, same = amount_pairs(part, inv, rules, calendar)
    amount["cidx"] += lo
    names = name_pairs(part, inv, aliases, rules, book.name_sides(rules))
    names["cidx"] += lo
    parts = [refs, names, amount]
    if len(cf):
        parts.append(confirmation_pairs(links, cf, inv))
    del refs, names, amount, part, links  # the merge frees each part once read
    same_amount = np.zeros(len(cr), dtype=np.int64)
    same_amount[lo:hi] = same
    return _merge_evidence(parts, len(inv), same_amount), block


PARALLEL_MIN_CREDITS = 100_000  # from this many credits, candidates and scoring use two processes
CHILD_WAIT_SECONDS = 120.0  # the least a parent waits for its child's answer (then 3x its own time)


def _parallel(credits: int) -> bool:
    return credits >= PARALLEL_MIN_CREDITS and forked.can_fork()


def _viable(
    cr: pd.DataFrame, book: Book, aliases: pd.DataFrame, rules: Matching,
    calendar: BankingCalendar, texts: _Forked | None = None,
) -> tuple[pd.DataFrame, npt.NDArray[np.int64]]:  # fmt: skip
    """The viable pairs (:func:`_viable_pairs` of :func:`_candidate_pairs`) and each credit's
    exact amount block; from ``PARALLEL_MIN_CREDITS`` credits, with a second CPU to use, in two
    halves at once (:func:`_viable_split`): the same frame, row for row. ``texts``: the
    credits' ``credit_refs`` are being found in a child (:func:`start_credit_texts`)."""
    if _parallel(len(cr)):
        return _viable_split(cr, book, aliases, rules, calendar, texts)
    pairs, exact_block = _candidate_pairs(cr, book, aliases, rules, calendar)
    return _viable_pairs(pairs, cr, book.invoices, book.confirmations, rules, calendar), exact_block


def _quoted_numbers(credits: pd.DataFrame, rules: Matching) -> pd.DataFrame:
    """``credit_refs`` of the credits as ``decide`` prepares them (in line order)."""
    cr = _in_line_order(credits[["line_id", "amount_sen", "message", "description"]])
    return credit_refs(cr.assign(**_quoting_columns(cr)), rules)


def _child_texts(channel: forked.Channel, credits: pd.DataFrame, rules: Matching) -> None:
    senders = _sender_columns(_in_line_order(credits[["line_id", "counterparty"]]))
    # the parent reads the senders only once its book is prepared: they are written (the
    # pipe blocks) by a thread while this process goes on with the quoted numbers
    sending = threading.Thread(target=channel.send, args=(senders,))
    sending.start()
    quoted = _quoted_numbers(credits, rules)
    sending.join()
    channel.send(quoted)


def start_credit_texts(credits: pd.DataFrame, rules: Matching) -> _Forked | None:
    """For a million credits (``PARALLEL_MIN_CREDITS``, a second CPU): what :func:`decide`
    derives from their texts alone, found in a forked child from now on while the caller
    prepares the book: the senders' names normalised (``_sender_columns``), then the numbers
    the credits quote (``credit_refs``: a regex scan of every text). ``decide`` (``texts=``)
    takes each when it needs it. None for fewer credits: ``decide`` finds them itself."""
    if not _parallel(len(credits)):
        return None
    return _Forked(lambda channel: _child_texts(channel, credits, rules), "credit texts")


class _Forked:
    """A computation started in a forked child (``forked.Child``) that sends one or more
    answers; :meth:`answer` gives the next, or computes it here should the child fail to
    start, die or not answer in time (at least CHILD_WAIT_SECONDS, else three times what the
    parent spent meanwhile); from a failure on, every answer is computed here."""

    def __init__(self, work: Callable[[forked.Channel], None], what: str) -> None:
        self.what = what
        self.started = time.monotonic()
        self.child: forked.Child | None = None
        try:
            self.child = forked.Child(work)
        except OSError as e:
            log.warning("cannot start a process for %s (%s): one process", what, e)

    def answer(self, here: Callable[[], Any], *, last: bool = True) -> Any:
        """The child's next answer (``last``: the child then reaped), else ``here()``."""
        child = self.child
        if child is None:
            return here()
        try:
            wait = max(CHILD_WAIT_SECONDS, 3 * (time.monotonic() - self.started))
            found = child.receive(wait)
        except forked.ChildLost as e:
            self.close()
            self.child = None
            log.warning(
                "the matching process for %s stopped (%s, exit %s): computed here",
                self.what, e, child.status,
            )  # fmt: skip
            return here()
        if last:
            child.close(grace=5.0)  # it has answered: it leaves at once
            self.child = None
        return found

    def close(self) -> None:
        """Reap the child, killing it if it still runs (its answers are not wanted)."""
        if self.child is not None:
            self.child.close()


def _credit_slice(cr: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    """Credits lo..hi-1 as a frame of their own (positions from 0; no data copied)."""
    return cr.iloc[lo:hi].reset_index(drop=True)


def _rows_between(frame: pd.DataFrame | None, lo: int, hi: int) -> pd.DataFrame | None:
    """The rows of credits lo..hi-1 (by ``cidx``)."""
    if frame is None:
        return None
    cidx = frame["cidx"].to_numpy()
    return frame[(cidx >= lo) & (cidx < hi)].reset_index(drop=True)


def _viable_between(
    cr: pd.DataFrame, lo: int, hi: int, book: Book, aliases: pd.DataFrame, rules: Matching,
    calendar: BankingCalendar, tables: Tables, refs: pd.DataFrame, links: pd.DataFrame | None,
) -> tuple[list[pd.DataFrame], pd.DataFrame, npt.NDArray[np.int64]]:  # fmt: skip
    """:func:`_pairs_between` and :func:`_viable_parts` for credits lo..hi-1: the viable
    parts, the candidate pairs when there are no parts (an empty frame), and the credits' exact
    amount blocks."""
    inv, cf = book.invoices, book.confirmations
    pairs, block = _pairs_between(cr, lo, hi, book, aliases, rules, calendar, refs, links)
    del refs, links
    # two processes score at once: half the block each, the memory of one process's blocks
    viable = _viable_parts(pairs, cr, inv, cf, rules, calendar, tables, SCORE_BLOCK_PAIRS // 2)
    return viable, pairs.iloc[:0] if viable else pairs, block


def _child_half(
    channel: forked.Channel, cr: pd.DataFrame, lo: int, hi: int, book: Book,
    aliases: pd.DataFrame, rules: Matching, calendar: BankingCalendar, tables: Tables,
    refs: pd.DataFrame, links: pd.DataFrame | None,
) -> None:  # fmt: skip
    """The child's half: its viable parts and exact blocks, sent to the parent."""
    viable, _, block = _viable_between(
        cr, lo, hi, book, aliases, rules, calendar, tables, refs, links
    )
    channel.send((viable, block))


def _viable_split(
    cr: pd.DataFrame, book: Book, aliases: pd.DataFrame, rules: Matching,
    calendar: BankingCalendar, texts: _Forked | None = None,
) -> tuple[pd.DataFrame, npt.NDArray[np.int64]]:  # fmt: skip
    """:func:`_viable` in two processes: credits [0, mid) here, [mid, n) in a forked child.

    A credit's candidate pairs and scores depend on that credit and the book alone, except
    the confirmation links (``candidates.confirmation_links`` counts credits per sender key
    and per confirmed amount and date, and keeps a confirmation to the credits agreeing on its
    amount): the quoted invoice numbers and the links are found over all credits before the
    fork (both read every credit's texts: after the fork, each page of them a process touched,
    if only to count a reference, would be copied: ~700 MiB more at 1M lines). The parts come
    back in credit order, so the frame is the one a single process builds. If the child
    fails, its half is computed here. The numbers the credits quote come from ``texts`` when
    given (found in another child while the book was prepared), else are found here."""
    n, mid = len(cr), len(cr) // 2
    inv, cf = book.invoices, book.confirmations
    book.name_sides(rules)  # built once, before the fork: both halves use it
    tables = name_tables(cr, inv, cf)
    here = lambda: credit_refs(cr, rules)  # noqa: E731
    refs = find_refs(cr, inv, rules, texts.answer(here) if texts is not None else here())
    links = confirmation_links(cr, cf, rules, calendar, refs, inv) if len(cf) else None
    refs_b, links_b = _rows_between(refs, mid, n), _rows_between(links, mid, n)
    refs, links = _rows_between(refs, 0, mid), _rows_between(links, 0, mid)
    assert refs is not None and refs_b is not None
    second = _Forked(
        lambda channel: _child_half(
            channel, cr, mid, n, book, aliases, rules, calendar, tables, refs_b, links_b
        ),
        f"credits {mid}-{n - 1}",
    )
    try:
        parts, pairs, block = _viable_between(
            cr, 0, mid, book, aliases, rules, calendar, tables, refs, links
        )
        del refs, links
        answer = second.answer(
            lambda: _viable_between(
                cr, mid, n, book, aliases, rules, calendar, tables, refs_b, links_b
            )[::2]
        )
    finally:
        second.close()
    parts_b, block_b = answer
    parts.extend(parts_b)
    del parts_b
    exact_block = np.concatenate([block, block_b])
    if not parts:  # no pairs at all: the frame one process makes of none
        return _best_per_pair(score_pairs(pairs, cr, inv, cf, rules, calendar), cf), exact_block
    return pd.concat(parts, ignore_index=True), exact_block


def _merge_evidence(
    parts: list[pd.DataFrame], n_invoices: int, same_amount: npt.NDArray[np.int64]
) -> pd.DataFrame:
    """One row per (credit, invoice, confirmation) from the blocking parts: the strongest
    evidence of each kind per (credit, invoice); a pair found without a confirmation keeps its
    ``fidx = -1`` row only if no confirmation links it.

    Flat numpy arrays, one sort (tens of millions of rows at 1M lines: pandas group-bys and a
    merge over them took several GiB). Consumes ``parts`` (the list is emptied as it is read).
    """

    def column(part: pd.DataFrame, name: str, missing: int, dtype: type) -> npt.NDArray[Any]:
        if name not in part:
            return np.full(len(part), missing, dtype=dtype)
        return part[name].fillna(missing).to_numpy().astype(dtype, copy=False)

    keys, refs, flags, tickets = [], [], [], []
    while parts:
        p = parts.pop(0)
        keys.append(column(p, "cidx", 0, np.int64) * n_invoices + column(p, "iidx", 0, np.int64))
        refs.append(column(p, "ref", 0, np.int8))
        flags.append(column(p, "alias", 0, np.int8) | column(p, "name_block", 0, np.int8) << 1
                     | column(p, "amount_block", 0, np.int8) << 2)  # fmt: skip
        tickets.append(column(p, "fidx", -1, np.int32))
        del p
    key, ref, bits, fidx = (np.concatenate(a) for a in (keys, refs, flags, tickets))
    del keys, refs, flags, tickets
    if not len(key):
        none = np.zeros(0, dtype=np.int64)
        return pd.DataFrame({c: none for c in ("cidx", "iidx", "ref", "alias", "name_block",
                                               "amount_block", "fidx", "same_amount")})  # fmt: skip
    order = np.lexsort((fidx, key))
    key, ref, bits, fidx = key[order], ref[order], bits[order], fidx[order]
    del order
    new_pair = np.r_[True, key[1:] != key[:-1]]
    starts = np.flatnonzero(new_pair)
    sizes = np.diff(np.r_[starts, len(key)])
    # per (credit, invoice) reductions, spread back over its rows (small dtypes throughout)
    ref_max = np.repeat(np.maximum.reduceat(ref, starts), sizes)
    bits_any = np.repeat(np.bitwise_or.reduceat(bits, starts), sizes)
    has_conf = np.repeat(np.maximum.reduceat(fidx, starts) >= 0, sizes)
    first_of_conf = new_pair | np.r_[True, fidx[1:] != fidx[:-1]]
    keep = first_of_conf & ((fidx >= 0) | ~has_conf)
    kept = key[keep]
    cidx = kept // n_invoices
    return pd.DataFrame(
        {
            "cidx": cidx,
            "iidx": kept % n_invoices,
            "ref": ref_max[keep],
            "alias": bits_any[keep] & 1,
            "name_block": bits_any[keep] >> 1 & 1,
            "amount_block": bits_any[keep] >> 2 & 1,
            "fidx": fidx[keep],
            "same_amount": same_amount[cidx].astype(np.int32),
        }
    )


def _best_per_pair(scored: pd.DataFrame, cf: pd.DataFrame) -> pd.DataFrame:
    """Per (credit, invoice) the row of the best-scored confirmation (``raw_score``, then the
    lowest ticket; none before any): one numpy lexsort over integer keys."""
    fidx = scored["fidx"].to_numpy(dtype=np.int64)
    has = fidx >= 0
    ranks = cf["ticket_rank"].to_numpy(dtype=np.int64) if len(cf) else np.zeros(1, np.int64)
    ticket_rank = np.where(has, ranks[np.maximum(fidx, 0)], -1)
    cidx, iidx = scored["cidx"].to_numpy(), scored["iidx"].to_numpy()
    order = np.lexsort((ticket_rank, -scored["raw_score"].to_numpy(dtype=np.int64), iidx, cidx))
    cidx, iidx = cidx[order], iidx[order]
    first = np.r_[True, (cidx[1:] != cidx[:-1]) | (iidx[1:] != iidx[:-1])] if len(order) else order
    rows = order[first.astype(bool)]
    kept = fidx[rows]
    tickets = cf["ticket_id"].astype(str).to_numpy() if len(cf) else np.array([""], dtype=object)
    ticket = np.where(kept >= 0, tickets[np.maximum(kept, 0)], "")
    return scored.iloc[rows].assign(ticket=ticket).reset_index(drop=True)


SCORE_BLOCK_PAIRS = 1_000_000  # pairs scored at once: bounds the memory of the scoring frames


def _viable_pairs(
    pairs: pd.DataFrame, cr: pd.DataFrame, inv: pd.DataFrame, cf: pd.DataFrame, rules: Matching,
    calendar: BankingCalendar, tables: Tables | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Score the pairs block by block of whole credits (a credit's pairs stay together), keep
    each (credit, invoice)'s best-scored confirmation and only pairs reaching review_threshold.

    Scoring is per pair, so blocks give the same rows as one pass; only the peak memory of the
    ~40 scoring columns is bounded (15M candidate pairs at 1M lines).
    """
    parts = _viable_parts(pairs, cr, inv, cf, rules, calendar, tables)
    if not parts:
        return _best_per_pair(score_pairs(pairs, cr, inv, cf, rules, calendar), cf)
    return pd.concat(parts, ignore_index=True)


def _viable_parts(
    pairs: pd.DataFrame, cr: pd.DataFrame, inv: pd.DataFrame, cf: pd.DataFrame, rules: Matching,
    calendar: BankingCalendar, tables: Tables | None = None, block_pairs: int = 0,
) -> list[pd.DataFrame]:  # fmt: skip
    """The viable pairs of :func:`_viable_pairs`, one compacted frame per block scored (none
    when there are no pairs); blocks of about ``block_pairs`` pairs (``SCORE_BLOCK_PAIRS``)."""
    block_pairs = block_pairs or SCORE_BLOCK_PAIRS
    cidx = pairs["cidx"].to_numpy()
    if len(cidx) and (np.diff(cidx) < 0).any():  # _merge_evidence gives them sorted already
        pairs = pairs.sort_values("cidx", kind="stable").reset_index(drop=True)
        cidx = pairs["cidx"].to_numpy()
    cuts = [0]
    while cuts[-1] < len(pairs):
        end = min(cuts[-1] + block_pairs, len(pairs))
        if end < len(pairs):  # move the cut to the start of the next credit
            end = int(np.searchsorted(cidx, cidx[end - 1], side="right"))
        cuts.append(end)
    parts = []
    tables = tables or name_tables(cr, inv, cf)
    for lo, hi in itertools.pairwise(cuts):
        block = pairs.iloc[lo:hi].reset_index(drop=True)
        scored = score_pairs(block, cr, inv, cf, rules, calendar, tables)
        # a pair's best confirmation among those reaching the threshold is its best overall
        # whenever that one reaches it: filter first, pick among fewer rows
        scored = scored[scored["score"].to_numpy() >= rules.review_threshold]
        parts.append(_compact(_best_per_pair(scored, cf)))
    return parts


def _row_finder(
    frame: pd.DataFrame, n_invoices: int
) -> Callable[[pd.DataFrame], npt.NDArray[np.int64]]:
    """Positions in ``frame`` (one row per (cidx, iidx)) of the given (cidx, iidx) pairs: a
    sorted packed key and a binary search instead of a hash join over millions of rows."""
    keys = frame["cidx"].to_numpy(dtype=np.int64) * n_invoices + frame["iidx"].to_numpy(np.int64)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]

    def rows(pairs: pd.DataFrame) -> npt.NDArray[np.int64]:
        wanted = pairs["cidx"].to_numpy(np.int64) * n_invoices + pairs["iidx"].to_numpy(np.int64)
        at = np.searchsorted(sorted_keys, wanted)
        found: npt.NDArray[np.int64] = order[at]
        return found

    return rows


_BLOCKING_ONLY = ("ref", "alias", "name_block", "amount_block", "same_amount", "ticket",
                  "due_sen", "closed", "days_from_issue")  # fmt: skip
_LEVELS = ("amount", "reference", "name", "confirmation", "date", "rarity")


def _compact(viable: pd.DataFrame) -> pd.DataFrame:
    """Viable pairs in small dtypes, without the columns only blocking and scoring needed: at 1M
    lines ~10M viable pairs are kept for the assignment (levels as categories, small ints)."""
    out = viable.drop(columns=[c for c in _BLOCKING_ONLY if c in viable])
    narrow = {c: "category" for c in _LEVELS}
    for column in out.columns:
        kind = out[column].dtype.kind
        if kind in "iu" and column not in ("cidx", "iidx", "fidx", "gap_sen"):
            # weights, scores (sums of a few weights), similarities (0-100) and name lengths
            # are small; day counts are not
            small = column.startswith("w_") or column.endswith(("score", "_sim", "_chars"))
            narrow[column] = "int16" if small else "int32"
    return out.astype(narrow).reset_index(drop=True)


def _split_groups(
    viable: pd.DataFrame, cr: pd.DataFrame, inv: pd.DataFrame, rules: Matching,
    calendar: BankingCalendar,
) -> pd.DataFrame:  # fmt: skip
    """Instalments: ≥2 identified partial credits of one payer towards one invoice.

    Applied together when their sum does not exceed what is outstanding (beyond the
    over-payment tolerance): completing the invoice (PAID), or not yet (PARTIAL, the balance
    stays outstanding) when every part quotes the invoice number. ``completes`` tells which.
    """
    ranked = viable.assign(rank=rank_of(viable))
    best = ranked[ranked["rank"] == ranked.groupby("cidx")["rank"].transform("max")]
    best = best[best.groupby("cidx")["iidx"].transform("size") == 1]
    part = best[(best["amount"] == "partial") & best["identified"]].copy()
    if part.empty:
        return part.assign(credit_sen=0, completes=False, balance_sen=0, group_gap_sen=0,
                           auto=False)  # fmt: skip
    part["credit_sen"] = cr["amount_sen"].to_numpy()[part["cidx"].to_numpy()]
    part["sender"] = cr["sender_norm"].to_numpy()[part["cidx"].to_numpy()]
    part["posted"] = cr["posted_on"].to_numpy()[part["cidx"].to_numpy()]
    group = part.groupby("iidx").agg(
        n=("cidx", "size"), paid=("credit_sen", "sum"), first=("posted", "min"),
        last=("posted", "max"),
    )  # fmt: skip
    named = part.loc[part["sender"] != "", ["iidx", "sender"]].drop_duplicates()
    group["senders"] = named.groupby("iidx").size().reindex(group.index, fill_value=0)
    outstanding = inv["outstanding_sen"].to_numpy()[group.index.to_numpy()]
    gap = group["paid"].to_numpy() - outstanding
    completes = -gap <= tolerance_sen(rules.underpaid_tolerance, outstanding)
    not_over = gap <= tolerance_sen(rules.overpaid_tolerance, outstanding)
    span = calendar.distances(
        group["first"].reset_index(drop=True), group["last"].reset_index(drop=True)
    )
    # parts that leave a balance are applied only when every part quotes the invoice: a
    # name alone cannot tell which of a client's invoices an incomplete payment is for
    quoted = (part["reference"] != "none").groupby(part["iidx"]).all()
    quoted = quoted.reindex(group.index, fill_value=False).to_numpy()
    ok = (group["n"].to_numpy() >= 2) & not_over & (group["senders"].to_numpy() <= 1)
    ok &= span <= rules.split_window_days
    ok &= completes | quoted
    verdict = pd.DataFrame(
        {"completes": completes, "balance_sen": np.maximum(-gap, 0), "group_gap_sen": gap},
        index=group.index,
    )[ok]
    found = part.merge(verdict, left_on="iidx", right_index=True)
    # applied automatically only on the evidence that would apply one transfer of it all: each
    # part's score with the amount level of the whole (exact, within tolerance; a balance left:
    # the part's own) must reach auto_threshold, as a single pair must
    whole = np.where(
        ~found["completes"].to_numpy(dtype=bool),
        found["w_amount"].to_numpy(dtype=np.int64),
        np.where(found["group_gap_sen"].to_numpy() == 0, AMOUNT_LEVELS["exact"],
                 AMOUNT_LEVELS["within_tolerance"]),
    )  # fmt: skip
    as_one = found["raw_score"].to_numpy(dtype=np.int64) - found["w_amount"].to_numpy() + whole
    strong = pd.Series(as_one >= rules.auto_threshold).groupby(found["iidx"].to_numpy())
    found["auto"] = strong.transform("all").to_numpy(dtype=bool)
    return found


_NAMED = ("alias", "client", "company")  # name levels that identify the payer by name


def _contested_ties(
    chosen: pd.DataFrame,
    accepted: npt.NDArray[np.bool_],
    tie: npt.NDArray[np.bool_],
    cr: pd.DataFrame,
) -> npt.NDArray[np.bool_]:
    """Rows of ``chosen`` (accepted pairs, and the duplicates ``assign`` gave, ``tie``: each
    tied on its invoice with the credit that took it) where the credits tied on one invoice
    do not come from one named sender: the duplicate and the credit that took the invoice."""
    out = np.zeros(len(chosen), dtype=bool)
    lost = np.flatnonzero(tie)
    if not len(lost):
        return out
    i = chosen["iidx"].to_numpy()
    c = chosen["cidx"].to_numpy()
    taker = pd.Series(np.flatnonzero(accepted), index=i[accepted]).reindex(i[lost])
    found = taker.notna().to_numpy()
    lost, won = lost[found], taker.to_numpy()[found].astype(np.int64)
    sender = cr["sender_norm"].to_numpy(dtype=object)
    other = (sender[c[lost]] != sender[c[won]]) | (sender[c[lost]] == "")
    out[lost[other]] = True
    out[won[other]] = True
    return out


def _name_rivals(
    chosen: pd.DataFrame, auto: npt.NDArray[np.bool_], rest: pd.DataFrame
) -> pd.Series:
    """Per row of ``chosen`` to be applied whose payer is identified by name or alias: the
    other invoices (iidx list) the same credit fits as well, for the same amount (the same
    gap), by name or alias, issued by then, with nothing else singling the chosen one out:
    neither a quoted number nor an agreeing confirmation that the other lacks. Whatever the
    clients and the dates: the sender's own name against an alias pointing elsewhere, two
    open invoices of one client (the older overdue one, or the newer one?), two clients of
    one name. An invoice another credit is applied to in this assignment is no rival.
    Indexed by row position in ``chosen``; empty when there are none."""
    names = chosen["name"].to_numpy()
    rows = np.flatnonzero(auto & np.isin(names, _NAMED))
    if not len(rows):
        return pd.Series([], dtype=object)

    def edge(frame: pd.DataFrame) -> npt.NDArray[np.int64]:
        agrees = frame["confirmation"].to_numpy() == "agrees"
        conf = np.where(agrees, frame["w_confirmation"].to_numpy(dtype=np.int64), 0)
        return frame["w_reference"].to_numpy(dtype=np.int64) + conf  # type: ignore[no-any-return]

    mine = chosen.iloc[rows]
    mine = pd.DataFrame(
        {"k": rows, "cidx": mine["cidx"].to_numpy(), "iidx": mine["iidx"].to_numpy(),
         "gap_sen": mine["gap_sen"].to_numpy(dtype=np.int64), "edge": edge(mine)}
    )  # fmt: skip
    near = rest[rest["cidx"].isin(mine["cidx"]).to_numpy()]
    near = near[
        near["name"].isin(_NAMED).to_numpy()
        & near["amount"].isin(FULL_LEVELS).to_numpy()
        & (near["date"].to_numpy() != "before_issue")
    ]
    others = pd.DataFrame(
        {"cidx": near["cidx"].to_numpy(), "other": near["iidx"].to_numpy(),
         "gap_sen": near["gap_sen"].to_numpy(dtype=np.int64), "other_edge": edge(near)}
    )  # fmt: skip
    both = mine.merge(others, on=["cidx", "gap_sen"])
    both = both[
        (both["other"] != both["iidx"])
        & (both["edge"] <= both["other_edge"])
        # an invoice another credit is being applied to is no longer open to this one
        & ~both["other"].isin(chosen["iidx"].to_numpy()[auto])
    ]
    return both.groupby("k")["other"].agg(list)


def _combined_groups(
    viable: pd.DataFrame, cr: pd.DataFrame, inv: pd.DataFrame, rules: Matching
) -> tuple[pd.DataFrame, npt.NDArray[np.int64]]:
    """One credit, several open invoices of one client summing exactly to it, none issued after
    the credit's posting day.

    Returns (cidx, iidx, weight) rows of the groups found and the credits that more than one
    set of invoices fits. Subset sums are vectorised: the client's open invoices form a matrix
    (clients with k invoices together) and every k-choose-s combination is summed at once.
    """
    fits = viable["amount"].isin(FULL_LEVELS) & viable["identified"]
    fits_single = fits.groupby(viable["cidx"]).transform("any")
    pool = viable[~fits_single & viable["identified"]]
    none = pd.DataFrame({"cidx": [], "iidx": [], "weight": []}, dtype=np.int64)
    if pool.empty:
        return none, np.zeros(0, dtype=np.int64)
    pool = pd.DataFrame(
        {
            "cidx": pool["cidx"].to_numpy(),
            "client": inv["client_key"].to_numpy()[pool["iidx"].to_numpy()],
            "weight": pool[["w_reference", "w_name", "w_confirmation"]].max(axis=1).to_numpy(),
        }
    )
    # only the best-identified client(s) of each credit: a look-alike name is no second client
    pool = pool[pool["weight"] == pool.groupby("cidx")["weight"].transform("max")]
    per_credit = pool.groupby("cidx").agg(
        client=("client", "first"), clients=("client", "nunique"), weight=("weight", "max")
    )
    per_credit = per_credit[per_credit["clients"] == 1].reset_index()
    open_inv = inv.loc[inv["status"].isin(OPEN_STATUSES).to_numpy(), ["client_key"]]
    members = pd.DataFrame(
        {"client": open_inv["client_key"].to_numpy(), "iidx": open_inv.index.to_numpy()}
    )
    members = members[members["client"].isin(per_credit["client"])]
    members = members.sort_values(["client", "iidx"], kind="stable")
    members["k"] = members.groupby("client")["iidx"].transform("size")
    members = members[(members["k"] >= 2) & (members["k"] <= MAX_COMBINED_POOL)]
    outstanding = inv["outstanding_sen"].to_numpy()
    amount = cr["amount_sen"].to_numpy()
    # an invoice issued after the money arrived is no part of what it paid (the single pair's
    # date signal: before_issue from the day after the posting day)
    issued = inv["issued_on"].to_numpy(dtype="datetime64[D]")
    posted = cr["posted_on"].to_numpy(dtype="datetime64[D]")
    found_c: list[npt.NDArray[np.int64]] = []
    found_sets: list[npt.NDArray[np.int64]] = []
    hits_total = pd.Series(0, index=per_credit["cidx"].to_numpy(), dtype=np.int64)
    for k, group in members.groupby("k"):  # at most MAX_COMBINED_POOL sizes
        k = int(k)
        matrix = group["iidx"].to_numpy().reshape(-1, k)  # one row per client
        row_of = pd.Series(np.arange(len(matrix)), index=group["client"].to_numpy()[::k])
        credits_k = per_credit[per_credit["client"].isin(row_of.index)]
        rows = row_of.loc[credits_k["client"]].to_numpy()
        wanted = amount[credits_k["cidx"].to_numpy()]
        # credits x k: the client's invoice issued after the credit's posting day
        late = issued[matrix[rows]] > posted[credits_k["cidx"].to_numpy()][:, None]
        for size in range(2, min(rules.max_combined_invoices, k) + 1):
            combos = np.array(list(itertools.combinations(range(k), size)), dtype=np.int64)
            sums = outstanding[matrix][:, combos].sum(axis=2)  # clients x combinations
            hit = (sums[rows] == wanted[:, None]) & ~late[:, combos].any(axis=2)
            count = hit.sum(axis=1)
            hits_total.loc[credits_k["cidx"].to_numpy()] += count
            one = count == 1
            found_c.append(credits_k["cidx"].to_numpy()[one])
            picked = combos[hit[one].argmax(axis=1)]  # the single combination that fits
            found_sets.append(np.take_along_axis(matrix[rows[one]], picked, axis=1))
    unique = set(hits_total.index[hits_total.to_numpy() == 1].tolist())
    ambiguous = hits_total.index[hits_total.to_numpy() > 1].to_numpy(dtype=np.int64)
    rows_c: list[int] = []
    rows_i: list[int] = []
    for cs, sets in zip(found_c, found_sets, strict=True):
        for c, members_of in zip(cs.tolist(), sets.tolist(), strict=True):
            if c in unique:
                rows_c.extend([c] * len(members_of))
                rows_i.extend(members_of)
    found = pd.DataFrame({"cidx": rows_c, "iidx": rows_i}, dtype=np.int64)
    claimed = found.groupby("iidx")["cidx"].transform("nunique")
    contested = found.loc[(claimed > 1).to_numpy(), "cidx"].unique()
    found = found[~found["cidx"].isin(contested)]
    weight = per_credit.set_index("cidx")["weight"]
    found = found.assign(weight=weight.loc[found["cidx"]].to_numpy(dtype=np.int64))
    ambiguous = np.union1d(ambiguous, contested.astype(np.int64))
    return found.sort_values(["cidx", "iidx"], ignore_index=True), ambiguous


def _amount_text(level: str, gap: int) -> str:
    if level in ("exact", "unique_code"):
        return "amount exact" + (" with unique code" if level == "unique_code" else "")
    if gap < 0:
        return f"amount {rupiah_text(-gap)} short ({level.replace('_', ' ')})"
    return f"amount {rupiah_text(gap)} over ({level.replace('_', ' ')})"


def _name_text(
    level: str, sender: str, client: str, company: str, client_sim: int, company_sim: int,
    conf_sim: int,
) -> str:  # fmt: skip
    if level == "alias":
        return f"sender {sender!r} is a learned alias of {client!r}"
    if level in ("fuzzy", "weak") and conf_sim > max(client_sim, company_sim):
        return f"name {sender!r} ~ confirmation name {conf_sim}"
    if level in ("client", "company", "fuzzy", "weak", "different") and sender:
        by_company = level == "company" or (level != "client" and company_sim > client_sim)
        label, target, sim = (
            ("company", company, company_sim) if by_company else ("client", client, client_sim)
        )
        return f"name {sender!r} ~ {label} {target!r} {sim}"
    if level == "confirmation":
        return f"name {sender!r} ~ confirmation name {conf_sim}"
    return ""


_CONF_TEXT = {"unnamed": "agrees on amount and date (no sender name to compare)"}


def _reasons(
    rows: pd.DataFrame, cr: pd.DataFrame, inv: pd.DataFrame, cf: pd.DataFrame
) -> list[str]:
    """One-line reasons, column-wise: plain lists zipped, never a per-row Series."""
    c = rows["cidx"].to_numpy()
    i = rows["iidx"].to_numpy()
    f = rows["fidx"].to_numpy()
    tickets = cf["ticket_id"].astype(str).to_numpy()[np.maximum(f, 0)] if len(cf) else f * 0
    amount = [
        _amount_text(a, g) + ("; another open invoice has the same amount" if shared else "")
        for a, g, shared in zip(rows["amount"].tolist(), rows["gap_sen"].tolist(),
                                rows["code_shared"].tolist(), strict=True)
    ]  # fmt: skip
    numbers = inv["invoice_no"].astype(str).to_numpy()[i].tolist()
    ref = [f"invoice #{no} in description" if r != "none" else ""
           for r, no in zip(rows["reference"].tolist(), numbers, strict=True)]  # fmt: skip
    name = [
        _name_text(*args)
        for args in zip(
            rows["name"].tolist(), cr["counterparty"].fillna("").astype(str).to_numpy()[c].tolist(),
            inv["client_name"].astype(str).to_numpy()[i].tolist(),
            inv["company_name"].fillna("").astype(str).to_numpy()[i].tolist(),
            rows["client_sim"].astype(np.int64).tolist(),
            rows["company_sim"].astype(np.int64).tolist(),
            rows["conf_sim"].astype(np.int64).tolist(),
            strict=True,
        )
    ]  # fmt: skip
    conf = [f"confirmation #{t} {_CONF_TEXT.get(level, level)}" if k >= 0 else ""
            for k, t, level in zip(f.tolist(), np.asarray(tickets).tolist(), rows["confirmation"].tolist(), strict=True)]  # fmt: skip
    date_text = [
        "paid before the invoice date" if d == "before_issue"
        else (f"{n} banking days after due" if late else "")
        for d, late, n in zip(rows["date"].tolist(), rows["after_due"].tolist(),
                              rows["days_after_due"].astype(np.int64).tolist(), strict=True)
    ]  # fmt: skip
    return [
        "; ".join(p for p in parts if p)
        for parts in zip(amount, ref, name, conf, date_text, strict=True)
    ]


_SIGNALS = (
    '{{"amount": {{"gap_sen": {}, "level": "{}", "weight": {}}}, '
    '"confirmation": {{"level": "{}", "weight": {}}}, '
    '"date": {{"banking_days_after_due": {}, "level": "{}", "weight": {}}}, '
    '"name": {{"level": "{}", "similarity": {}, "weight": {}}}, '
    '"rarity": {{"level": "{}", "weight": {}}}, "reference": {{"level": "{}", "weight": {}}}}}'
)  # json.dumps(..., sort_keys=True) of the breakdown; levels are fixed identifiers


def _signals(rows: pd.DataFrame) -> list[str]:
    columns = [
        rows["gap_sen"], rows["amount"], rows["w_amount"], rows["confirmation"],
        rows["w_confirmation"], rows["days_after_due"], rows["date"], rows["w_date"],
        rows["name"], rows["name_sim"], rows["w_name"], rows["rarity"], rows["w_rarity"],
        rows["reference"], rows["w_reference"],
    ]  # fmt: skip
    lists = [
        col.astype(np.int64).tolist() if col.dtype.kind in "iub" else col.tolist()
        for col in columns
    ]
    return [_SIGNALS.format(*values) for values in zip(*lists, strict=True)]


def _rules(rows: pd.DataFrame) -> npt.NDArray[np.object_]:
    chosen: npt.NDArray[np.object_] = np.select(
        [
            rows["reference"].to_numpy() != "none",
            rows["confirmation"].to_numpy() == "agrees",
            rows["name"].isin(("alias", "client", "company", "confirmation", "fuzzy")).to_numpy(),
            rows["rarity"].to_numpy() == "sole_open",
        ],
        [Rule.INVOICE_REF.value, Rule.CONFIRMATION.value, Rule.NAME_AMOUNT.value,
         Rule.UNIQUE_AMOUNT.value],
        default=Rule.AMOUNT_ONLY.value,
    ).astype(object)  # fmt: skip
    return chosen


def _join_codes(flags: list[tuple[npt.NDArray[np.bool_], str]], n: int) -> npt.NDArray[np.object_]:
    """';'-joined codes from (mask, code) in order, column-wise."""
    out: npt.NDArray[np.object_] = np.full(n, "", dtype=object)
    for mask, code in flags:
        out = np.where(mask, out + (code + ";"), out)
    return np.array([s[:-1] for s in out.tolist()], dtype=object)


def _runs_joined(
    keys: npt.NDArray[Any], values: npt.NDArray[Any]
) -> tuple[npt.NDArray[np.int64], list[str]]:
    """For ``keys`` in runs of equal values (sorted): where each run starts, and its
    ``values`` joined with ';' in order (a group-by calling the join per group was slower)."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64), []
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    texts = np.asarray(values, dtype=object)
    return starts, [";".join(part) for part in np.split(texts, starts[1:])]


def _first_per(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    """';'-joined ``value`` per ``key`` (sorted), in frame order within a key: one stable sort
    and a join per key (a group-by calling the join took five times as long)."""
    order = np.argsort(frame[key].to_numpy(), kind="stable")
    keys = frame[key].to_numpy()[order]
    starts, texts = _runs_joined(keys, frame[value].to_numpy(dtype=object)[order])
    return pd.Series(texts, index=pd.Index(keys[starts], name=key), name=value, dtype=object)


def claimable_invoices(
    credits: pd.DataFrame, book: Book, aliases: pd.DataFrame, rules: Matching
) -> npt.NDArray[np.object_]:
    """The open invoice numbers these credits could be matched with: those of their viable
    pairs (scored at least ``review_threshold``), the only pairs assignment, instalments and
    combined payments use. What a new credit may take from an earlier one (a closed invoice
    is taken by nobody)."""
    _require(credits, CREDIT_COLUMNS, "credits")
    if not len(credits):
        return np.zeros(0, dtype=object)
    calendar = BankingCalendar(rules.extra_holidays)
    cr, inv = _prepare_credits(credits), book.invoices
    viable, _ = _viable(cr, book, aliases, rules, calendar)
    iidx = np.unique(viable["iidx"].to_numpy(dtype=np.int64))
    iidx = iidx[inv["status"].isin(OPEN_STATUSES).to_numpy()[iidx]]
    numbers: npt.NDArray[np.object_] = inv["invoice_no"].astype(str).to_numpy()[iidx]
    return numbers.astype(object)


def decide(
    credits: pd.DataFrame,
    invoices: pd.DataFrame,
    confirmations: pd.DataFrame,
    aliases: pd.DataFrame,
    rules: Matching,
    as_of: date,
    *,
    book: Book | None = None,
    texts: _Forked | None = None,
    statements_until: Mapping[str, date] | None = None,
) -> MatchResult:
    """Match incoming credits to invoices and confirmations; see docs/DESIGN.md.

    ``book``: ``prepare_book(invoices, confirmations)`` when the caller has it already;
    ``texts``: :func:`start_credit_texts` of these credits, started by the caller;
    ``statements_until``: per company account, the last day its imported statements cover
    (:func:`funds_overdue`; None: every account taken as covered up to ``as_of``).
    """
    _require(credits, CREDIT_COLUMNS, "credits")
    _require(aliases, ("sender_norm", "client_key"), "aliases")
    calendar = BankingCalendar(rules.extra_holidays)
    # a million credits: what their texts alone give is found in a child (started by the
    # caller, else here) while this process prepares the book and the credits
    texts = texts or start_credit_texts(credits, rules)
    book = book or prepare_book(invoices, confirmations)
    try:
        cr, inv, cf = _prepare_credits(credits, texts), book.invoices, book.confirmations
        viable, exact_block = _viable(cr, book, aliases, rules, calendar, texts)
    finally:
        if texts is not None:
            texts.close()
    viable["posted_day"] = cr["posted_on"].to_numpy()[viable["cidx"].to_numpy()]
    viable["line_id"] = cr["line_id"].to_numpy()[viable["cidx"].to_numpy()]

    n = len(cr)
    inv_no = inv["invoice_no"].astype(str).to_numpy()
    tickets_of = cf["ticket_id"].astype(str).to_numpy()
    credit_sen = cr["amount_sen"].to_numpy(dtype=np.int64)
    status = np.full(n, LineStatus.UNMATCHED.value, dtype=object)
    rule = np.full(n, Rule.NONE.value, dtype=object)
    score = np.zeros(n, dtype=np.int64)
    signals = np.full(n, "{}", dtype=object)
    reason = np.full(n, "", dtype=object)
    codes = np.full(n, "", dtype=object)
    line_invoices = np.full(n, "", dtype=object)
    candidates = np.full(n, "", dtype=object)
    allocations: list[pd.DataFrame] = []  # cidx, iidx, amount_sen
    invoice_codes: list[pd.DataFrame] = []  # iidx, codes (in decision order)
    links: list[pd.DataFrame] = []  # cidx, fidx: confirmations a decided credit funds
    learned: list[pd.DataFrame] = []  # cidx, iidx: payer named by a confirmation

    def frame(c: npt.ArrayLike, i: npt.ArrayLike, **more: npt.ArrayLike) -> pd.DataFrame:
        return pd.DataFrame(
            {"cidx": np.asarray(c, dtype=np.int64), "iidx": np.asarray(i, dtype=np.int64), **more}
        )

    # 1. instalments of one payer towards one invoice
    split = _split_groups(viable, cr, inv, rules, calendar)
    c, i = split["cidx"].to_numpy(), split["iidx"].to_numpy()
    split_auto = split["auto"].to_numpy(dtype=bool)
    status[c] = np.where(split_auto, LineStatus.MATCHED.value, LineStatus.REVIEW.value)
    rule[c], score[c] = Rule.SPLIT.value, split["score"]
    codes[c], line_invoices[c] = Code.SPLIT_PAYMENT.value, inv_no[i]
    signals[c] = _signals(split)
    balance = [
        "" if done else f" ({rupiah_text(b)} still outstanding)"
        for done, b in zip(split["completes"].tolist(), split["balance_sen"].tolist(), strict=True)
    ]
    held = ["" if a else "; the payer is not identified well enough to apply it"
            for a in split_auto.tolist()]  # fmt: skip
    reason[c] = [f"instalment of invoice #{no}{b}; {r}{h}" for no, b, r, h in
                 zip(inv_no[i].tolist(), balance, _reasons(split, cr, inv, cf), held, strict=True)]  # fmt: skip
    applied = split[split_auto]
    allocations.append(
        frame(applied["cidx"], applied["iidx"], amount_sen=applied["credit_sen"].to_numpy(np.int64))
    )
    invoice_codes.append(pd.DataFrame({"iidx": applied["iidx"], "codes": Code.SPLIT_PAYMENT.value}))
    links.append(split.loc[split["fidx"] >= 0, ["cidx", "fidx"]])
    teaches = (applied["name"] == "confirmation") & (applied["confirmation"] != "disagrees")
    learned.append(applied.loc[teaches & (applied["fidx"] >= 0), ["cidx", "iidx"]])
    taken_c, taken_i = set(c.tolist()), set(i.tolist())

    # the invoices each credit quotes with a marker ("INV 20501", "#20501"): cidx -> "a;b"
    marked = viable.loc[viable["reference"].to_numpy() == "marked", ["cidx", "iidx"]]
    quoted_nos = _first_per(
        marked.assign(no=inv_no[marked["iidx"].to_numpy()]).sort_values(["cidx", "no"]),
        "cidx",
        "no",
    )

    # 2. one transfer paying several invoices of one client
    rest = viable[~viable["cidx"].isin(taken_c) & ~viable["iidx"].isin(taken_i)]
    del viable  # what is left of it is ``rest`` (~10M pairs at 1M lines: one copy at a time)
    combined, combined_ambiguous = _combined_groups(rest, cr, inv, rules)
    if len(combined):
        out_sen = inv["outstanding_sen"].to_numpy()[combined["iidx"].to_numpy()]
        combined = combined.assign(
            no=inv_no[combined["iidx"].to_numpy()],
            part=[f"#{no} {rupiah_text(v)}" for no, v in
                  zip(inv_no[combined["iidx"].to_numpy()].tolist(), out_sen.tolist(), strict=True)],
            amount_sen=out_sen,
        )  # fmt: skip
        per = combined.groupby("cidx").agg(
            nos=("no", ";".join), parts=("part", ", ".join), k=("iidx", "size"),
            weight=("weight", "first"),
        )  # fmt: skip
        c = per.index.to_numpy()
        total = AMOUNT_LEVELS["exact"] + per["weight"].to_numpy() + 5
        # a quoted invoice number outside the set contradicts it (few combined credits)
        outside = [
            sorted(set(quoted_nos.get(x, "").split(";")) - set(nos.split(";")) - {""})
            for x, nos in zip(c.tolist(), per["nos"].tolist(), strict=True)
        ]
        conflict = np.array([bool(o) for o in outside], dtype=bool)
        auto = (total >= rules.auto_threshold) & ~conflict
        status[c] = np.where(auto, LineStatus.MATCHED.value, LineStatus.REVIEW.value)
        rule[c], score[c] = Rule.COMBINED.value, np.minimum(total, 100)
        codes[c], line_invoices[c] = Code.COMBINED_PAYMENT.value, per["nos"].to_numpy()
        signals[c] = [
            json.dumps({"combined": {"invoices": nos.split(";"), "identification_weight": w}})
            for nos, w in zip(per["nos"].tolist(), per["weight"].tolist(), strict=True)
        ]
        reason[c] = [
            (f"quotes invoice {', '.join(f'#{q}' for q in o)}, not among them; " if o else "")
            + f"sum of {k} open invoices of one client: {parts}"
            for o, k, parts in zip(outside, per["k"].tolist(), per["parts"].tolist(), strict=True)
        ]  # fmt: skip
        codes[c] = np.where(conflict, codes[c] + ";" + Code.AMBIGUOUS.value, codes[c])
        applied = combined[combined["cidx"].isin(c[auto])]
        allocations.append(applied[["cidx", "iidx", "amount_sen"]])
        invoice_codes.append(pd.DataFrame({"iidx": applied["iidx"].to_numpy(),
                                           "codes": Code.COMBINED_PAYMENT.value}))  # fmt: skip
        funded = combined[["cidx", "iidx"]].merge(
            rest[["cidx", "iidx", "fidx"]], on=["cidx", "iidx"]
        )
        links.append(funded.loc[funded["fidx"] >= 0, ["cidx", "fidx"]])
        taken_c.update(c.tolist())
        taken_i.update(combined["iidx"].tolist())
    c = combined_ambiguous
    status[c], codes[c] = LineStatus.REVIEW.value, Code.AMBIGUOUS.value
    reason[c] = "several sets of the client's open invoices sum to this amount"
    taken_c.update(c.tolist())

    # 3. global assignment of the rest
    rest = rest[~rest["cidx"].isin(taken_c) & ~rest["iidx"].isin(taken_i)].reset_index(drop=True)
    result = assign(rest)
    rows_of = _row_finder(rest, len(inv))
    # a credit identified as a payer (name, alias, number...) paying an invoice's full amount
    # whose every candidate went to a better credit is money for an invoice this run pays: a
    # person looks (DUPLICATE_PAYMENT), not an unidentified credit
    lost_rows = rows_of(result.outranked)
    outranked = result.outranked[
        rest["identified"].to_numpy()[lost_rows]
        & np.isin(rest["amount"].to_numpy()[lost_rows], FULL_LEVELS)  # the invoice's amount
    ]
    picked = pd.concat(
        [result.accepted.assign(accepted=True, tied=False),
         result.duplicates.assign(accepted=False, tied=True),
         outranked.assign(accepted=False, tied=False)],
        ignore_index=True,
    )  # fmt: skip
    chosen = rest.iloc[rows_of(picked)].reset_index(drop=True)
    chosen["accepted"] = picked["accepted"].to_numpy(dtype=bool)
    c, i = chosen["cidx"].to_numpy(), chosen["iidx"].to_numpy()
    inv_status = inv["status"].to_numpy()[i]
    is_open = np.isin(inv_status, OPEN_STATUSES)
    accepted = chosen["accepted"].to_numpy(dtype=bool)
    gap = chosen["gap_sen"].to_numpy(dtype=np.int64)
    identified = chosen["identified"].to_numpy(dtype=bool)
    would_apply = (
        accepted
        & (chosen["score"].to_numpy() >= rules.auto_threshold)
        & is_open
        & (chosen["amount"].to_numpy() != "over")
    )
    auto = would_apply & identified
    # conflicting evidence: the credit quotes another invoice's number while its amount, name
    # or confirmation point to this one: never automatic, a person decides (AMBIGUOUS)
    quotes_other = (chosen["reference"].to_numpy() == "none") & np.isin(
        c, quoted_nos.index.to_numpy()
    )
    auto &= ~quotes_other
    # another invoice the sender's name (or a learned alias) fits as well, for the same amount:
    # the sender's own name against an alias pointing elsewhere is no choice to make alone
    rivals = _name_rivals(chosen, auto, rest)
    rivalled = np.isin(np.arange(len(chosen)), rivals.index.to_numpy())
    auto &= ~rivalled
    # a confirmation that disagrees (amount, account) never makes a pair automatic: the pair
    # must reach auto_threshold without it (its weight, and its name's when that is the name)
    disputed = chosen["confirmation"].to_numpy() == "disagrees"
    name_level = chosen["name"].to_numpy()
    without = (
        chosen["raw_score"].to_numpy(dtype=np.int64)
        - np.where(disputed, chosen["w_confirmation"].to_numpy(dtype=np.int64), 0)
        - np.where(
            disputed & (name_level == "confirmation"), chosen["w_name"].to_numpy(np.int64), 0
        )
    )
    held_by_dispute = would_apply & disputed & (~identified | (without < rules.auto_threshold))
    auto &= ~held_by_dispute
    # two credits tied on one invoice: the earlier (posting day, line id) took it and the
    # other is the same payment sent twice, when both come from one named sender; from
    # different or unknown senders it is not known whose payment it is (nor which line id
    # came first by chance): neither is decided alone, both go to review (AMBIGUOUS)
    tie = picked["tied"].to_numpy(dtype=bool)
    contested = _contested_ties(chosen, accepted, tie, cr)
    auto &= ~contested
    paid, cancelled = inv_status == "PAID", inv_status == "CANCELLED"
    underpaid = ~paid & ~cancelled & (gap < 0)
    received_before = inv["received_sen"].to_numpy()[i] > 0
    chosen_codes = _join_codes(
        [
            (auto & received_before & ~underpaid, Code.SPLIT_PAYMENT.value),
            ((~accepted & ~contested) | paid, Code.DUPLICATE_PAYMENT.value),
            (cancelled, Code.PAYMENT_ON_CLOSED_INVOICE.value),
            (underpaid, Code.UNDERPAID.value),
            (~paid & ~cancelled & (gap > 0), Code.OVERPAID.value),
            (np.isin(name_level, ("weak", "different")), Code.NAME_MISMATCH.value),
            (chosen["wrong_account"].to_numpy(dtype=bool), Code.WRONG_ACCOUNT.value),
            (chosen["conf_amount_differs"].to_numpy(dtype=bool),
             Code.CONFIRMATION_AMOUNT_MISMATCH.value),
            (chosen["after_due"].to_numpy(dtype=bool) & ~paid & ~cancelled,
             Code.PAID_AFTER_DUE.value),
            (quotes_other | rivalled | contested, Code.AMBIGUOUS.value),
        ],
        len(chosen),
    )  # fmt: skip
    status[c] = np.where(auto, LineStatus.MATCHED.value, LineStatus.REVIEW.value)
    rule[c], score[c] = _rules(chosen), chosen["score"].to_numpy(dtype=np.int64)
    codes[c], line_invoices[c] = chosen_codes, inv_no[i]
    signals[c] = _signals(chosen)
    # money for an invoice already closed: said first, the evidence after (else the reason of
    # a perfect fit reads like a payment to apply)
    said = _reasons(chosen, cr, inv, cf)
    for k in np.flatnonzero(cancelled | paid).tolist():  # few: no pass over every row
        state = "is cancelled" if cancelled[k] else "is already paid"
        said[k] = f"invoice #{inv_no[i[k]]} {state}; {said[k]}"
    if len(outranked):  # few: which credit the invoice went to
        line_ids = cr["line_id"].to_numpy()
        taker = pd.Series(c[accepted], index=i[accepted])
        for k in np.flatnonzero(~accepted & ~tie).tolist():
            said[k] = (f"line {line_ids[taker.loc[i[k]]]} fits invoice #{inv_no[i[k]]} better; "
                       f"{said[k]}")  # fmt: skip
    for k in np.flatnonzero(quotes_other).tolist():  # few
        quoted = quoted_nos.loc[c[k]].split(";")
        said[k] = (f"quotes invoice {', '.join(f'#{q}' for q in quoted)}, not #{inv_no[i[k]]}; "
                   f"{said[k]}")  # fmt: skip
        candidates[c[k]] = ";".join(sorted({inv_no[i[k]], *quoted}))
    for k, others in rivals.items():  # few
        nos = sorted({inv_no[i[k]], *inv_no[np.asarray(others, dtype=np.int64)].tolist()})
        said[k] = (f"{len(nos)} invoices fit the sender's name and amount: "
                   f"{', '.join(f'#{n}' for n in nos)}; {said[k]}")  # fmt: skip
        candidates[c[k]] = ";".join(nos)
    if contested.any():  # few
        line_ids = cr["line_id"].to_numpy()
        rows = np.flatnonzero(contested)
        by_invoice = pd.Series(line_ids[c[rows]]).groupby(i[rows]).agg(sorted)
        for k in rows.tolist():
            ids = by_invoice.loc[i[k]]
            said[k] = (f"{len(ids)} credits from different senders fit invoice #{inv_no[i[k]]} "
                       f"equally: lines {', '.join(map(str, ids))}; {said[k]}")  # fmt: skip
    for k in np.flatnonzero(held_by_dispute & ~quotes_other & ~rivalled).tolist():
        said[k] += "; a confirmation that disagrees is not enough to apply it"
    reason[c] = said
    allocations.append(frame(c[auto], i[auto], amount_sen=credit_sen[c[auto]]))
    to_invoice = auto | ~is_open
    invoice_codes.append(pd.DataFrame({"iidx": i[to_invoice], "codes": chosen_codes[to_invoice]}))
    with_conf = chosen["fidx"].to_numpy() >= 0
    links.append(chosen.loc[with_conf, ["cidx", "fidx"]])
    # a payer is learned only from a confirmation that agrees with the transfer
    teaches = auto & with_conf & (name_level == "confirmation") & ~disputed
    learned.append(chosen.loc[teaches, ["cidx", "iidx"]])

    tied = rest.iloc[rows_of(result.ambiguous)].sort_values(["cidx", "iidx"])
    if len(tied):
        links.append(tied.loc[tied["fidx"] >= 0, ["cidx", "fidx"]])  # money came; a person decides
        starts, nos = _runs_joined(tied["cidx"].to_numpy(), inv_no[tied["iidx"].to_numpy()])
        c, k = tied["cidx"].to_numpy()[starts], np.diff(np.r_[starts, len(tied)])
        tied_score = tied["score"].to_numpy()[starts]
        status[c], rule[c], score[c] = LineStatus.REVIEW.value, _rules(tied)[starts], tied_score
        codes[c], candidates[c] = Code.AMBIGUOUS.value, nos
        reason[c] = [f"{n} invoices fit equally well (score {s}): " + ", ".join(f"#{x}" for x in joined.split(";"))
                     for n, s, joined in zip(k.tolist(), tied_score.tolist(), nos, strict=True)]  # fmt: skip

    # credits nobody could place
    unplaced = status == LineStatus.UNMATCHED.value
    crowded = unplaced & (exact_block > rules.max_block_size)
    status[crowded], codes[crowded] = LineStatus.REVIEW.value, Code.AMBIGUOUS.value
    # no count in the text: it changes with every invoice paid, the decision does not
    reason[crowded] = [
        f"amount {rupiah_text(a)} fits more than {rules.max_block_size} open invoices; "
        "nothing else identifies the payer"
        for a in credit_sen[crowded].tolist()
    ]
    lonely = unplaced & ~crowded
    codes[lonely] = Code.UNIDENTIFIED_CREDIT.value
    reason[lonely] = "no invoice, confirmation or known payer fits this credit"
    review = (status == LineStatus.REVIEW.value) & (candidates == "")
    candidates[review] = line_invoices[review]

    link = pd.concat(links, ignore_index=True).astype(np.int64).drop_duplicates()
    link = link.assign(ticket=tickets_of[link["fidx"].to_numpy()] if len(link) else "")
    line_tickets = np.full(n, "", dtype=object)
    joined = _first_per(link.sort_values(["cidx", "ticket"]), "cidx", "ticket")
    line_tickets[joined.index.to_numpy()] = joined.to_numpy()
    lines = pd.DataFrame(
        {
            "line_id": cr["line_id"].to_numpy(),
            "status": status,
            "rule": rule,
            "score": score,
            "signals": signals,
            "reason": reason,
            "codes": codes,
            "invoice_nos": line_invoices,
            "confirmation_ids": line_tickets,
            "candidates": candidates,
        }
    )
    alloc = pd.concat(allocations, ignore_index=True).astype(np.int64)
    alloc_out = pd.DataFrame(
        {
            "line_id": cr["line_id"].to_numpy()[alloc["cidx"].to_numpy()],
            "invoice_no": inv["invoice_no"].to_numpy()[alloc["iidx"].to_numpy()],
            "amount_sen": alloc["amount_sen"].to_numpy(dtype=np.int64),
        }
    ).sort_values(["line_id", "invoice_no"], ignore_index=True)
    invoices_out = _invoice_outcomes(inv, alloc, pd.concat(invoice_codes, ignore_index=True), rules)
    confirmations_out = _confirmation_outcomes(
        cf, cr, lines, link, rules, calendar, as_of, statements_until
    )
    return MatchResult(
        lines=lines,
        allocations=alloc_out,
        invoices=invoices_out,
        confirmations=confirmations_out,
        aliases=_learned_aliases(pd.concat(learned, ignore_index=True), cr, inv, aliases),
    )


def _learned_aliases(
    pairs: pd.DataFrame, cr: pd.DataFrame, inv: pd.DataFrame, known: pd.DataFrame
) -> pd.DataFrame:
    """Sender names a confirmation tied to a client with another name (spouse, employer)."""
    pairs = pairs.astype(np.int64)
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
    inv: pd.DataFrame, alloc: pd.DataFrame, invoice_codes: pd.DataFrame, rules: Matching
) -> pd.DataFrame:
    """Status, amount received, codes and reason of every invoice this run touched."""
    received = alloc.groupby("iidx")["amount_sen"].sum()
    parts = invoice_codes.assign(code=invoice_codes["codes"].str.split(";")).explode("code")
    parts = parts[parts["code"].notna() & (parts["code"] != "")]
    parts = parts.assign(iidx=parts["iidx"].astype(np.int64)).drop_duplicates(["iidx", "code"])
    joined = _first_per(parts, "iidx", "code")
    touched = np.union1d(
        received.index.to_numpy(dtype=np.int64), invoice_codes["iidx"].to_numpy(dtype=np.int64)
    )
    amount = inv["amount_sen"].to_numpy()[touched]
    before = inv["received_sen"].to_numpy()[touched]
    got = received.reindex(touched, fill_value=0).to_numpy(dtype=np.int64)
    has_money = np.isin(touched, received.index.to_numpy())
    now = before + got
    short = amount - now
    limit = tolerance_sen(rules.underpaid_tolerance, amount)
    old_status = inv["status"].astype(str).to_numpy()[touched]
    status = np.where(has_money, np.where(short <= limit, "PAID", "PARTIAL"), old_status)
    reason = [
        ("money received for an invoice that is " + s.lower()) if not money
        else "paid" if d == 0
        else f"paid; {rupiah_text(-d)} over" if d < 0
        else f"paid; {rupiah_text(d)} short within tolerance" if d <= lim
        else f"partly paid; {rupiah_text(d)} outstanding"
        for money, s, d, lim in zip(has_money.tolist(), old_status.tolist(), short.tolist(),
                                    limit.tolist(), strict=True)
    ]  # fmt: skip
    return pd.DataFrame(
        {
            "invoice_no": inv["invoice_no"].to_numpy()[touched],
            "status": status.astype(object),
            "received_sen": np.where(has_money, now, before).astype(np.int64),
            "codes": joined.reindex(touched, fill_value="").to_numpy(dtype=object),
            "reason": reason,
        }
    )


def funds_overdue(
    deadline: npt.NDArray[np.datetime64],
    dest_account_no: npt.NDArray[np.object_],
    dest_not_ours: npt.NDArray[np.bool_],
    as_of: date,
    statements_until: Mapping[str, date] | None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """(overdue, unseen) per confirmation whose money no credit brought. Overdue: its
    deadline has passed and the statements of the account it names (every company account
    when it names none) cover that day, so the money would have been seen: NO_FUNDS.
    Unseen: the deadline has passed but those statements stop before it (the money may be
    on one not imported yet): still waiting. Money sent to an account not the company's is
    never seen: overdue at the deadline. ``statements_until`` None: all covered."""
    passed = deadline < np.datetime64(as_of, "D")
    if statements_until is None:
        return passed, np.zeros(len(deadline), dtype=bool)
    until = {k: np.datetime64(v, "D") for k, v in statements_until.items()}
    none = np.datetime64("NaT")
    everywhere = min(until.values()) if until else none
    reach = np.array(
        [until.get(a, none) if a else everywhere for a in dest_account_no.tolist()],
        dtype="datetime64[D]",
    )
    covered = dest_not_ours | (~np.isnat(reach) & (reach >= deadline))
    return passed & covered, passed & ~covered


def unseen_reason(account_no: str, deadline: str) -> str:
    """The reason of a confirmation past its deadline whose statements stop before it."""
    where = f"account {account_no}" if account_no else "the company accounts"
    return f"waiting for statements of {where} through {deadline}"


def _confirmation_outcomes(
    cf: pd.DataFrame,
    cr: pd.DataFrame,
    lines: pd.DataFrame,
    link: pd.DataFrame,
    rules: Matching,
    calendar: BankingCalendar,
    as_of: date,
    statements_until: Mapping[str, date] | None = None,
) -> pd.DataFrame:
    """Every confirmation: funded by a credit of this run or an earlier one, or still waiting
    (past its deadline only once the statements that would show the money are in)."""
    m = len(cf)
    link = link.sort_values(["fidx", "cidx"])
    line_codes = lines["codes"].to_numpy()[link["cidx"].to_numpy()]
    funded = link.assign(
        line_id=cr["line_id"].astype(str).to_numpy()[link["cidx"].to_numpy()],
        matched=lines["status"].to_numpy()[link["cidx"].to_numpy()] == LineStatus.MATCHED.value,
        wrong=[Code.WRONG_ACCOUNT.value in s.split(";") for s in line_codes.tolist()],
        differs=[Code.CONFIRMATION_AMOUNT_MISMATCH.value in s.split(";") for s in line_codes.tolist()],
    )  # fmt: skip
    has_link = np.zeros(m, dtype=bool)
    ids = np.full(m, "", dtype=object)
    link_codes = np.full(m, "", dtype=object)
    link_state = np.full(m, "REVIEW", dtype=object)
    if len(funded):  # per confirmation (runs of fidx): its lines, all matched, any code
        starts, joined = _runs_joined(funded["fidx"].to_numpy(), funded["line_id"].to_numpy())
        f = funded["fidx"].to_numpy(dtype=np.int64)[starts]

        def per(column: str, reduce: np.ufunc) -> npt.NDArray[np.bool_]:
            return reduce.reduceat(funded[column].to_numpy(dtype=bool), starts)  # type: ignore[no-any-return]

        has_link[f] = True
        ids[f] = joined
        link_state[f] = np.where(per("matched", np.logical_and), "MATCHED", "REVIEW")
        link_codes[f] = _join_codes(
            [(per("differs", np.logical_or), Code.CONFIRMATION_AMOUNT_MISMATCH.value),
             (per("wrong", np.logical_or), Code.WRONG_ACCOUNT.value)], len(f))  # fmt: skip
    deadline = calendar.add(
        cf["transfer_day"].fillna(pd.Timestamp(as_of)), rules.confirmation_funds_wait_days
    )
    invalid = cf["intake_status"].to_numpy() != "VALID"
    # settled in an earlier run, or linked to credits this run does not decide: kept as it was
    here = set(cr["line_id"].astype(str).tolist())
    decided_here = cf["line_ids"].str.split(";").map(lambda ids: not here.isdisjoint(ids))
    linked_before = (cf["status"] == "REVIEW") & (cf["line_ids"] != "") & ~decided_here
    earlier = ((cf["status"] == "MATCHED") | linked_before).to_numpy()
    no_date = cf["transfer_day"].isna().to_numpy()
    dest = cf["dest_account_no"].to_numpy(dtype=object)
    overdue, unseen = funds_overdue(
        deadline, dest, cf["dest_not_ours"].to_numpy(dtype=bool), as_of, statements_until
    )
    conds = [has_link, invalid, earlier, no_date, overdue]
    wait = rules.confirmation_funds_wait_days
    state = np.select(
        conds,
        [link_state, "INVALID", cf["status"].to_numpy(dtype=object), "REVIEW", "NO_FUNDS"],
        "AWAITING_FUNDS",
    )
    out_codes = np.select(
        conds, [link_codes, "", cf["codes"].to_numpy(dtype=object), "",
                Code.CONFIRMATION_WITHOUT_FUNDS.value], "")  # fmt: skip
    out_ids = np.select(conds, [ids, "", cf["line_ids"].to_numpy(dtype=object), "", ""], "")
    funds = np.array([f"funds on line {x}" for x in ids.tolist()], dtype=object)
    waiting = np.full(m, "waiting for the money to arrive", dtype=object)
    days = pd.Series(deadline).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    for k in np.flatnonzero(unseen).tolist():
        waiting[k] = unseen_reason(dest[k], days[k])
    out_reason = np.select(
        conds,
        [funds, cf["intake_reason"].to_numpy(dtype=object), cf["reason"].to_numpy(dtype=object),
         "no transfer date to look for the money",
         f"no money {wait} banking days after the confirmed date"],
        waiting,
    )  # fmt: skip
    return pd.DataFrame(
        {
            "ticket_id": cf["ticket_id"].astype(str).to_numpy(),
            "status": state.astype(object),
            "codes": out_codes.astype(object),
            "line_ids": out_ids.astype(object),
            "reason": out_reason.astype(object),
        }
    )
