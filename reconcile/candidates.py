"""Candidate generation (blocking): which (credit, invoice) pairs are worth scoring at all.

Amount is the least selective evidence in this business (docs: /work/shared MEASURED figures:
76k open invoices share the most common price), so blocks start from selective evidence and
amount-only blocks are used only where the amount is rare in the date window:

1. ``ref``: an invoice number in the credit's message or description (any invoice status, so
   that money for a paid or cancelled invoice is seen);
2. ``conf``: a confirmation ticket linked to the credit by its account name or by amount and
   date, then to the invoices it names (or the client's open invoices, by e-mail);
3. ``name``: the sender's normalised name (truncation-safe keys: its first 10 characters, and
   its first 14 where the 10-character block is crowded, e.g. "PT SUSILO " shared by many
   companies) equal to a client's or a company's, and learned ``alias`` sender names, to that
   client's open invoices;
4. ``amount``: open invoices of exactly the credit's amount (or that amount plus a typical fee
   deducted by the sender) issued in the window; the block is counted first
   (``numpy.searchsorted`` on a sorted key) and used only when it holds at most
   ``max_block_size`` invoices. Larger blocks are reported, not materialised.

Every join is a pandas merge on a key; the full cross product is never built.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from reconcile.calendar import BankingCalendar
from reconcile.config import Matching
from reconcile.names import block_key

OPEN_STATUSES = ("OPEN", "PARTIAL", "REVIEW")
TYPICAL_FEES_SEN = (100_000, 250_000, 290_000, 500_000, 650_000)  # formats.md §11.4
LONG_KEY_CHARS = 14  # the shortest cut a bank makes (formats.md §8.7)
_DAY_BITS = 20  # day numbers since 1970 fit in 20 bits until 4840


def invoice_key(values: pd.Series) -> pd.Series:
    """'#020431' | 'INV-20431' | '20431' -> '20431' (digits, no leading zeros)."""
    text = values.astype(str)
    other = ~text.str.isdecimal().to_numpy(dtype=bool)  # only those need the regex
    if other.any():
        text = text.copy()
        text[other] = text[other].str.replace(r"\D", "", regex=True)
    return text.str.lstrip("0")


def ref_pattern(rules: Matching) -> re.Pattern[str]:
    lo, hi = rules.invoice_number_digits
    return re.compile(
        r"(?P<mark>INV(?:OICE)?|#|NO)?[\s.:/#\-]{0,3}"
        rf"(?<!\d)(?<!\d[.,])(?P<number>\d{{{lo},{hi}}})(?![\d/])(?![.,]\d)",
        re.IGNORECASE,
    )


def _digit_runs(rules: Matching) -> re.Pattern[str]:
    """The number part of :func:`ref_pattern` alone (no optional marker in front: scanning for
    it at every character is what made the full pattern slow). It starts with a digit so the
    scan skips text quickly; the lookbehinds, moved one digit on, test what the pattern's test
    before the run."""
    lo, hi = rules.invoice_number_digits
    return re.compile(rf"\d(?<!\d\d)(?<!\d[.,]\d)\d{{{lo - 1},{hi - 1}}}(?![\d/])(?![.,]\d)")


_MARK_REACH = len("INVOICE") + 3  # the farthest a marker starts before its number


def quoted_refs(texts: Sequence[str], rules: Matching) -> pd.DataFrame:
    """(row, key, ref) for every invoice-number-like run in each text, as ``ref_pattern`` reads
    it text by text: ``key`` without leading zeros, ``ref`` 2 with a marker (INV, #, NO), else 1.

    Passes over all texts joined by NUL (neither a digit, a separator nor a marker, so no match
    spans two texts): the digit runs; the runs a marker precedes; for those, the full pattern
    over the few characters before the run, from where the previous run ended (so the marker
    is found exactly where a left-to-right scan of that text finds it).
    """
    if not len(texts):
        return pd.DataFrame(
            {"row": np.zeros(0, np.int64), "key": np.zeros(0, object), "ref": np.zeros(0, np.int64)}
        )
    joined = "\x00".join(texts)
    full = ref_pattern(rules)
    lo, hi = rules.invoice_number_digits
    # re.split with the runs captured: text between runs and the runs, alternating, all in C;
    # a run's position is the length of what precedes it
    parts = re.split(f"({_digit_runs(rules).pattern})", joined)
    offsets = np.cumsum([0, *map(len, parts)])
    starts = offsets[1:-1:2]
    ends = offsets[2::2]
    numbers = parts[1::2]
    # a run can carry a marker only where a marker precedes it: check the few that have one
    marker = (
        rf"((?=[IN#])(?:INV(?:OICE)?|#|NO)[\s.:/#\-]{{0,3}})(?<!\d)(?<!\d[.,])(\d{{{lo},{hi}}})"
    )
    pieces = re.split(marker, joined, flags=re.IGNORECASE)
    maybe = set(np.cumsum([0, *map(len, pieces)])[2:-1:3].tolist())
    marked = np.zeros(len(numbers), dtype=bool)
    for k in np.flatnonzero(np.isin(starts, list(maybe))).tolist():
        previous_end = int(ends[k - 1]) if k else 0
        found = full.search(joined, max(previous_end, int(starts[k]) - _MARK_REACH), int(ends[k]))
        marked[k] = found is not None and found.group("mark") is not None
    text_ends = np.cumsum([len(t) + 1 for t in texts])  # text i ends before text_ends[i]
    rows = np.searchsorted(text_ends, starts, side="right")
    return pd.DataFrame(
        {
            "row": rows.astype(np.int64),
            "key": pd.Series(numbers, dtype=object).str.lstrip("0").to_numpy(dtype=object),
            "ref": np.where(marked, 2, 1).astype(np.int64),
        }
    )


def credit_refs(credits: pd.DataFrame, rules: Matching) -> pd.DataFrame:
    """(cidx, key, ref): the invoice numbers each credit quotes (``invoice_key`` form), in its
    message, then its description; a digit run equal to its amount in rupiah is no number."""
    text = (credits["message"].astype(str) + " | " + credits["description"].astype(str)).tolist()
    found = quoted_refs(text, rules).rename(columns={"row": "cidx"})
    rupiah = (credits["amount_sen"].to_numpy() // 100).astype(str)
    return found[found["key"].to_numpy() != rupiah[found["cidx"].to_numpy()]]


def find_refs(
    credits: pd.DataFrame,
    invoices: pd.DataFrame,
    rules: Matching,
    found: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """(cidx, iidx, ref) for invoice numbers found in message, then description.

    ``ref`` is 2 when the number carries a marker (INV, #, NO), 1 for a bare digit run. Runs
    equal to the credit's amount in rupiah are ignored; only numbers that exist are kept.
    ``found``: :func:`credit_refs` of these credits, when already known.
    """
    if found is None:
        found = credit_refs(credits, rules)
    if not len(found):
        return pd.DataFrame({"cidx": [], "iidx": [], "ref": []}, dtype=np.int64)
    keys = pd.DataFrame({"key": invoices["inv_key"], "iidx": np.arange(len(invoices))})
    pairs = found.merge(keys, on="key")[["cidx", "iidx", "ref"]]
    return pairs.groupby(["cidx", "iidx"], as_index=False)["ref"].max()


def _open_positions(
    invoices: pd.DataFrame, columns: Sequence[str], *, marked_paid: bool = False
) -> pd.DataFrame:
    """``iidx`` and ``columns`` of the open invoices; ``marked_paid`` adds those the billing
    system marks paid that no bank line has paid yet (staff marked them by hand, the money may
    be coming). Only the columns asked for are copied (the book has ~30)."""
    mask = invoices["status"].isin(OPEN_STATUSES).to_numpy()
    if marked_paid:
        mask = mask | (invoices["status"] == "PAID").to_numpy() & (
            invoices["received_sen"].to_numpy() == 0
        )
    where = np.flatnonzero(mask)
    return pd.DataFrame(
        {"iidx": where, **{c: invoices[c].to_numpy()[where] for c in columns}},
        index=invoices.index[where],
    )


@dataclass(frozen=True)
class NameSides:
    """The invoice side of :func:`name_pairs`, which depends on the invoices alone: per key
    kind the (key, iidx) of the invoices a name can reach, blocks above ``max_block_size``
    dropped; and (iidx, client_key) for learned aliases. Built once per book."""

    keys: tuple[tuple[str, pd.DataFrame], ...]  # (block | long | norm, frame of key, iidx)
    clients: pd.DataFrame  # iidx, client_key


def name_sides(invoices: pd.DataFrame, rules: Matching) -> NameSides:
    open_inv = _open_positions(
        invoices,
        ["client_block", "company_block", "client_norm", "company_norm", "client_key"],
        marked_paid=True,
    )
    open_inv = open_inv.assign(
        client_long=_long_keys(open_inv["client_norm"]),
        company_long=_long_keys(open_inv["company_norm"]),
    )
    sides = []
    for column in ("client_block", "company_block", "client_long", "company_long", "client_norm",
                   "company_norm"):  # fmt: skip
        side = open_inv[["iidx", column]].rename(columns={column: "key"})
        side = side[side["key"] != ""]
        codes = pd.factorize(side["key"].to_numpy())[0]
        size = np.bincount(codes)[codes] if len(codes) else codes
        side = side[size <= rules.max_block_size]  # "BUDI" alone is not a client
        sides.append((column.rsplit("_", 1)[1], side.reset_index(drop=True)))
    return NameSides(tuple(sides), open_inv[["iidx", "client_key"]].reset_index(drop=True))


def name_pairs(
    credits: pd.DataFrame,
    invoices: pd.DataFrame,
    aliases: pd.DataFrame,
    rules: Matching,
    sides: NameSides | None = None,
) -> pd.DataFrame:
    """(cidx, iidx, name_block, alias) from the sender name to clients' open invoices (a pair
    once per key kind: name keys, then learned aliases), and to those marked paid without
    money seen: a transfer of that amount may be their payment, so another open invoice of
    the same amount is no longer the only fit. ``sides``: ``name_sides(invoices, rules)``."""
    sides = sides or name_sides(invoices, rules)
    senders = pd.DataFrame(
        {"cidx": np.arange(len(credits)), "key": credits["sender_key"].to_numpy()}
    )
    senders = senders[senders["key"] != ""]
    whole = pd.DataFrame(
        {"cidx": np.arange(len(credits)), "key": credits["sender_norm"].to_numpy()}
    )
    whole = whole[whole["key"] != ""]
    long = pd.DataFrame(
        {"cidx": np.arange(len(credits)), "key": _long_keys(credits["sender_norm"])}
    )
    long = long[long["key"] != ""]
    width = max(len(invoices), 1)
    packed_pairs = []
    for suffix, side in sides.keys:
        left = senders if suffix == "block" else long if suffix == "long" else whole
        found = left.merge(side, on="key")
        packed_pairs.append(found["cidx"].to_numpy(np.int64) * width + found["iidx"].to_numpy())
    # one pair per (credit, invoice) however many keys found it: distinct packed numbers, by
    # an in-place sort (a hash table over tens of millions of pairs costs far more memory)
    by_name = np.concatenate(packed_pairs)
    del packed_pairs
    by_name.sort()
    by_name = by_name[np.r_[True, by_name[1:] != by_name[:-1]]] if len(by_name) else by_name
    frames = [pd.DataFrame({"cidx": by_name // width, "iidx": by_name % width, "alias": 0})]
    if len(aliases):
        learned = pd.DataFrame(
            {"sender_norm": aliases["sender_norm"], "client_key": aliases["client_key"]}
        ).drop_duplicates()
        by_sender = pd.DataFrame(
            {"cidx": np.arange(len(credits)), "sender_norm": credits["sender_norm"].to_numpy()}
        )
        by_sender = by_sender[by_sender["sender_norm"] != ""]
        linked = by_sender.merge(learned, on="sender_norm").merge(sides.clients, on="client_key")
        frames.append(linked[["cidx", "iidx"]].assign(alias=1))
    # a pair found both by a name key and by an alias appears twice: the evidence merge
    # (matching._merge_evidence) keeps one row per pair with the strongest of each signal
    return pd.concat(frames, ignore_index=True).astype(np.int64).assign(name_block=1)


def _long_keys(normalised: pd.Series) -> npt.NDArray[np.object_]:
    """First LONG_KEY_CHARS characters of names at least that long, else ''."""
    text = normalised.astype(str)
    keys: npt.NDArray[np.object_] = np.where(
        text.str.len().to_numpy() >= LONG_KEY_CHARS, text.str[:LONG_KEY_CHARS].to_numpy(), ""
    ).astype(object)
    return keys


def packed(amount_sen: npt.ArrayLike, days: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """(amount, day number) packed in one sortable int64: amount in the high bits."""
    packed: npt.NDArray[np.int64] = (np.asarray(amount_sen, dtype=np.int64) << _DAY_BITS) + (
        np.asarray(days, dtype=np.int64)
    )
    return packed


def day_numbers(values: pd.Series) -> npt.NDArray[np.int64]:
    days: npt.NDArray[np.int64] = (
        pd.to_datetime(values).to_numpy(dtype="datetime64[D]").astype(np.int64)
    )
    return days


def expand_ranges(
    lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Row i repeated (hi-lo) times with positions lo..hi-1: a vectorised range join."""
    sizes = hi - lo
    owner = np.repeat(np.arange(len(lo)), sizes)
    starts = np.repeat(lo - np.cumsum(sizes) + sizes, sizes)
    return owner, starts + np.arange(sizes.sum())


def amount_pairs(
    credits: pd.DataFrame, invoices: pd.DataFrame, rules: Matching, calendar: BankingCalendar
) -> tuple[pd.DataFrame, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Amount-only candidates where the amount is rare; also each credit's exact block size
    and its same-amount count.

    The window: invoices issued from ``date_window_days`` banking days before the posting
    date up to the posting date. Fee-sized shortfalls within the under-payment tolerance
    (``TYPICAL_FEES_SEN``) are looked up too. The same-amount count is the number of open
    invoices with exactly the credit's amount outstanding issued on or before its posting
    date, however long before: what scoring's ``sole_open`` reads (an older open invoice of
    the same amount, outside the window, makes the amount no longer unique).
    """
    open_inv = _open_positions(invoices, ["outstanding_sen", "issued_on"])
    invoice_keys = packed(
        open_inv["outstanding_sen"].to_numpy(), day_numbers(open_inv["issued_on"])
    )
    order = np.argsort(invoice_keys, kind="stable")
    keys = invoice_keys[order]
    positions = open_inv["iidx"].to_numpy()[order]
    amount = credits["amount_sen"].to_numpy().astype(np.int64)
    frames = []
    exact_block = np.zeros(len(credits), dtype=np.int64)
    for offset, lo, hi in amount_windows(keys, amount, credits["posted_on"], rules, calendar):
        size = hi - lo
        if offset == 0:
            exact_block = size
        keep = (size > 0) & (size <= rules.max_block_size)
        owner, pos = expand_ranges(lo[keep], hi[keep])
        cidx = np.flatnonzero(keep)[owner]
        frames.append(pd.DataFrame({"cidx": cidx, "iidx": positions[pos]}))
    pairs = pd.concat(frames, ignore_index=True).drop_duplicates().assign(amount_block=1)
    posted = day_numbers(credits["posted_on"])
    same_amount = np.searchsorted(keys, packed(amount, posted), side="right") - np.searchsorted(
        keys, packed(amount, np.zeros_like(posted)), side="left"
    )
    return pairs, exact_block, same_amount.astype(np.int64)


def fee_offsets(rules: Matching) -> list[int]:
    """0 and the typical transfer fees within the under-payment tolerance, in sen."""
    limit_sen = int(rules.underpaid_tolerance.absolute * 100)
    return [0, *[f for f in TYPICAL_FEES_SEN if f <= limit_sen]]


def amount_windows(
    sorted_keys: npt.NDArray[np.int64],
    amount_sen: npt.NDArray[np.int64],
    posted_on: pd.Series,
    rules: Matching,
    calendar: BankingCalendar,
) -> list[tuple[int, npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """Per fee offset, each credit's range [lo, hi) in ``sorted_keys`` (packed open amount and
    issue day): open invoices of its amount (+ offset) issued from ``date_window_days`` banking
    days before its posting date up to that date (a handful of vectorised lookups)."""
    posted = day_numbers(posted_on)
    start = np.minimum(calendar.add(posted_on, -rules.date_window_days).astype(np.int64), posted)
    return [
        (
            offset,
            np.searchsorted(sorted_keys, packed(amount_sen + offset, start), side="left"),
            np.searchsorted(sorted_keys, packed(amount_sen + offset, posted), side="right"),
        )
        for offset in fee_offsets(rules)
    ]


def confirmation_links(
    credits: pd.DataFrame,
    confirmations: pd.DataFrame,
    rules: Matching,
    calendar: BankingCalendar,
    refs: pd.DataFrame | None = None,
    invoices: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """(cidx, fidx) pairs: a confirmation and a credit that may be the same transfer.

    Linked by account name (truncation-safe key), by an invoice number both quote (``refs``:
    the credits' (cidx, iidx) from :func:`find_refs`), or by exact amount, the credit posted
    within ``confirmation_date_window_days`` banking days of the typed transfer date. Amount
    blocks larger than ``max_block_size`` are dropped (counted first): a common price on a
    busy day links nothing, so an e-wallet transfer quoting "INV 20431" finds the confirmation
    of invoice 20431 by that number.
    """
    conf = confirmations.assign(fidx=np.arange(len(confirmations)))
    conf = conf[conf["transfer_day"].notna() & ~conf["closed"]]
    window = rules.confirmation_date_window_days
    frames = []
    by_name = pd.DataFrame({"cidx": np.arange(len(credits)), "key": credits["sender_key"]})
    by_name = by_name[by_name["key"] != ""]
    named = conf[conf["name_key"] != ""][["fidx", "name_key"]].rename(columns={"name_key": "key"})
    size = by_name.groupby("key")["cidx"].transform("size")
    frames.append(by_name[size <= rules.max_block_size * 20].merge(named, on="key"))
    if refs is not None and invoices is not None and len(refs):
        quoted = conf[["fidx", "invoice_keys"]].explode("invoice_keys")
        quoted = quoted[quoted["invoice_keys"].notna() & (quoted["invoice_keys"] != "")]
        keyed = pd.DataFrame(
            {"invoice_keys": invoices["inv_key"], "iidx": np.arange(len(invoices))}
        )
        frames.append(
            refs[["cidx", "iidx"]].merge(keyed.merge(quoted, on="invoice_keys"), on="iidx")
        )
    with_amount = conf[conf["amount_sen"].notna()]
    if len(with_amount):
        order = np.argsort(
            packed(credits["amount_sen"].to_numpy(), day_numbers(credits["posted_on"])),
            kind="stable",
        )
        keys = packed(credits["amount_sen"].to_numpy(), day_numbers(credits["posted_on"]))[order]
        amount = with_amount["amount_sen"].to_numpy().astype(np.int64)
        day = with_amount["transfer_day"]
        lo = np.searchsorted(keys, packed(amount, day_numbers(day) - 1))
        hi = np.searchsorted(
            keys, packed(amount, calendar.add(day, window).astype(np.int64)), side="right"
        )
        keep = (hi - lo > 0) & (hi - lo <= rules.max_block_size)
        owner, pos = expand_ranges(lo[keep], hi[keep])
        frames.append(
            pd.DataFrame({"cidx": order[pos], "fidx": with_amount["fidx"].to_numpy()[keep][owner]})
        )
    links = pd.concat([f[["cidx", "fidx"]] for f in frames], ignore_index=True).drop_duplicates()
    posted = day_numbers(credits["posted_on"])[links["cidx"].to_numpy()]
    sent = conf.set_index("fidx").loc[links["fidx"], "transfer_day"]
    distance = calendar.distances(sent.reset_index(drop=True), pd.Series(posted.astype("M8[D]")))
    links = links.assign(conf_days=distance)
    links = links[(links["conf_days"] >= -1) & (links["conf_days"] <= window)]
    # a confirmation that some credit agrees with on the amount belongs to those credits only
    conf_amount = confirmations["amount_sen"].to_numpy(dtype=np.int64, na_value=-1)
    same = (
        conf_amount[links["fidx"].to_numpy()]
        == credits["amount_sen"].to_numpy()[links["cidx"].to_numpy()]
    )
    has_same = pd.Series(same, index=links.index).groupby(links["fidx"]).transform("any")
    return links[same | ~has_same.to_numpy()].reset_index(drop=True)


def confirmation_pairs(
    links: pd.DataFrame, confirmations: pd.DataFrame, invoices: pd.DataFrame
) -> pd.DataFrame:
    """(cidx, iidx, fidx): a linked confirmation's invoices, else its client's open invoices."""
    named = confirmations[["invoice_keys"]].assign(fidx=np.arange(len(confirmations)))
    named = named.explode("invoice_keys").rename(columns={"invoice_keys": "inv_key"})
    named = named[named["inv_key"].notna() & (named["inv_key"] != "")]
    keyed = pd.DataFrame({"inv_key": invoices["inv_key"], "iidx": np.arange(len(invoices))})
    by_number = links.merge(named, on="fidx").merge(keyed, on="inv_key")
    without = set(range(len(confirmations))) - set(named["fidx"])
    emails = pd.DataFrame(
        {"fidx": np.arange(len(confirmations)), "email": confirmations["email_norm"]}
    )
    emails = emails[emails["fidx"].isin(without) & (emails["email"] != "")]
    open_inv = _open_positions(invoices, ["email_norm"]).rename(columns={"email_norm": "email"})
    by_email = links.merge(emails, on="fidx").merge(open_inv, on="email")
    cols = ["cidx", "iidx", "fidx", "conf_days"]
    return pd.concat([by_number[cols], by_email[cols]], ignore_index=True)


def block_keys(normalised: pd.Series) -> pd.Series:
    """``block_key`` of each name, computed once per distinct name (clients repeat)."""
    codes, names = pd.factorize(normalised.astype(str).to_numpy(dtype=object))
    keys = np.array([block_key(n) for n in names.tolist()] + [""], dtype=object)
    return pd.Series(keys[codes], index=normalised.index, dtype=object)
