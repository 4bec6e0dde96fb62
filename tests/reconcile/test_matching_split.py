"""decide() with candidates and scoring split over two processes (``matching._viable_split``),
and what the credits' texts alone give (senders' names, quoted numbers) derived in a child of
its own while the book is prepared, gives the frames of one process, also when a helper
process dies or hangs."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import pytest

from benchmarks.bench_pipeline import start_bench_run
from benchmarks.generate import ACCOUNTS, generate
from reconcile import forked, matching, pipeline, store
from reconcile.config import Rules
from reconcile.matching import MatchResult, decide

SIZE = 10_000
SEED = 11


@dataclass(frozen=True)
class Inputs:
    credits: pd.DataFrame
    invoices: pd.DataFrame
    confirmations: pd.DataFrame
    aliases: pd.DataFrame
    rules: Rules
    as_of: date


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    """The generator's 10k lines imported and its invoices and confirmations loaded, read as
    ``pipeline.match`` reads them for a first run."""
    data = tmp_path_factory.mktemp("data") / "10k"
    manifest = generate(SIZE, SEED, data, increment=0)
    work = tmp_path_factory.mktemp("work")
    rules = Rules.model_validate(
        {
            "accounts": [
                {"bank": b, "account_no": a, "holder": "Rina Wulandari"}
                for b, a in ACCOUNTS.items()
            ],
            "base_dir": str(work),
            "keep_inbox": True,
        }
    )
    opts = pipeline.RunOptions(
        rules=rules, inbox=data / "inbox", out=work / "reports", db_url=f"sqlite:///{work / 'r.db'}",
        as_of=date.fromisoformat(manifest["as_of"]), invoices=data / "invoices.csv",
        confirmations=data / "confirmations.csv", keep_inbox=True,
    )  # fmt: skip
    engine = store.make_engine(opts.db_url)
    run = start_bench_run(engine, opts, command="run")
    pipeline.import_inbox(engine, opts, run.run_id, run)
    pipeline.load_sources(engine, opts, run.run_id, run)
    with engine.connect() as conn:
        invoices, confirmations = store.load_invoices(conn), store.load_confirmations(conn)
        aliases, credits = store.load_aliases(conn), store.load_credits(conn)
    engine.dispose()
    return Inputs(credits, invoices, confirmations, aliases, rules, opts.as_of)


def _decide(inputs: Inputs) -> MatchResult:
    return decide(
        inputs.credits, inputs.invoices, inputs.confirmations, inputs.aliases,
        inputs.rules.matching, inputs.as_of,
    )  # fmt: skip


def _assert_same(a: MatchResult, b: MatchResult) -> None:
    for name in ("lines", "allocations", "invoices", "confirmations", "aliases"):
        left, right = getattr(a, name), getattr(b, name)
        assert list(left.dtypes.astype(str)) == list(right.dtypes.astype(str)), name
        pd.testing.assert_frame_equal(left, right, check_exact=True, obj=name)


@pytest.fixture(scope="module")
def one_process(inputs: Inputs) -> MatchResult:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(matching, "PARALLEL_MIN_CREDITS", 10**12)
        return _decide(inputs)


def _counting_forks(monkeypatch: pytest.MonkeyPatch) -> list[forked.Child]:
    started: list[forked.Child] = []
    real = forked.Child

    def child(work: Any) -> forked.Child:
        made = real(work)
        started.append(made)
        return made

    monkeypatch.setattr(forked, "Child", child)
    monkeypatch.setattr(forked, "can_fork", lambda: True)  # also on a one-CPU machine
    monkeypatch.setattr(matching, "PARALLEL_MIN_CREDITS", 1)
    return started


def test_split_decide_gives_the_frames_of_one_process(
    inputs: Inputs, one_process: MatchResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _counting_forks(monkeypatch)
    split = _decide(inputs)
    assert len(started) == 2  # the credits' texts, then the second half of the credits
    assert [child.status for child in started] == [0, 0]  # they answered and left by themselves
    lines = one_process.lines
    assert len(lines) == len(inputs.credits) > 5_000
    # a realistic mix: the comparison covers every kind of outcome
    assert {"MATCHED", "REVIEW", "UNMATCHED"} <= set(lines["status"])
    assert len(one_process.allocations) > 1_000
    assert (one_process.confirmations["line_ids"] != "").sum() > 100
    _assert_same(one_process, split)


def test_viable_pairs_split_are_the_frame_of_one_process(
    inputs: Inputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the later steps see: the same rows in the same order, the same dtypes."""
    rules = inputs.rules.matching
    calendar = matching.BankingCalendar(rules.extra_holidays)
    cr = matching._prepare_credits(inputs.credits)
    book = matching.prepare_book(inputs.invoices, inputs.confirmations)
    monkeypatch.setattr(matching, "PARALLEL_MIN_CREDITS", 10**12)
    whole, whole_blocks = matching._viable(cr, book, inputs.aliases, rules, calendar)
    _counting_forks(monkeypatch)
    split, split_blocks = matching._viable(cr, book, inputs.aliases, rules, calendar)
    assert len(whole) > 10_000
    assert list(whole.dtypes.astype(str)) == list(split.dtypes.astype(str))
    pd.testing.assert_frame_equal(whole, split, check_exact=True)
    assert whole_blocks.dtype == split_blocks.dtype
    assert (whole_blocks == split_blocks).all()


def _dies(*args: Any, **kwargs: Any) -> None:
    os._exit(7)


# each helper process, and what the parent's warning calls it
CHILDREN = {"_child_texts": "credit texts", "_child_half": "credits 4000-7999"}


@pytest.mark.parametrize("child", CHILDREN)
def test_a_child_that_dies_is_replaced_by_the_parent(
    child: str, inputs: Inputs, one_process: MatchResult, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    started = _counting_forks(monkeypatch)
    monkeypatch.setattr(matching, child, _dies)
    with caplog.at_level(logging.WARNING, logger="reconcile.matching"):
        split = _decide(inputs)
    assert len(started) == 2  # the other one answered as usual
    assert f"{CHILDREN[child]} stopped (the pipe closed, exit 7): computed here" in caplog.text
    assert sorted(c.status for c in started) == [0, 7]
    for made in started:
        with pytest.raises(ChildProcessError):
            os.waitpid(made.pid, os.WNOHANG)  # reaped
    _assert_same(one_process, split)


def test_a_child_that_dies_in_the_middle_of_its_answer_is_replaced(
    inputs: Inputs, one_process: MatchResult, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    started = _counting_forks(monkeypatch)
    real_send = forked.send

    def half_a_send(fd: int, value: object) -> None:
        os.write(fd, b"\x03\x00\x00\x00\x00\x00\x00\x00\x10")  # 3 parts, sizes cut short
        os._exit(3)

    def half(channel: forked.Channel, *args: Any) -> None:
        monkeypatch.setattr(forked, "send", half_a_send)  # in the child only
        real_child_half(channel, *args)

    real_child_half = matching._child_half
    monkeypatch.setattr(matching, "_child_half", half)
    with caplog.at_level(logging.WARNING, logger="reconcile.matching"):
        split = _decide(inputs)
    assert forked.send is real_send
    assert len(started) == 2
    assert "the pipe closed" in caplog.text and "exit 3" in caplog.text
    _assert_same(one_process, split)


@pytest.mark.parametrize("child", CHILDREN)
def test_a_child_that_hangs_is_killed_and_replaced(
    child: str, inputs: Inputs, one_process: MatchResult, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    started = _counting_forks(monkeypatch)
    monkeypatch.setattr(matching, "CHILD_WAIT_SECONDS", 0.5)
    monkeypatch.setattr(matching, child, lambda *a, **k: time.sleep(600))
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="reconcile.matching"):
        split = _decide(inputs)
    assert time.monotonic() - began < 60
    assert len(started) == 2
    assert f"{CHILDREN[child]} stopped (no answer in time, exit -9)" in caplog.text  # SIGKILL
    _assert_same(one_process, split)


def test_a_texts_child_that_dies_after_its_first_answer_is_replaced(
    inputs: Inputs, one_process: MatchResult, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """The senders arrive from the child, the quoted numbers are then found here."""
    started = _counting_forks(monkeypatch)
    sent: list[str] = []

    def senders_only(channel: forked.Channel, credits: pd.DataFrame, rules: Any) -> None:
        channel.send(matching._sender_columns(matching._in_line_order(credits)))
        os._exit(5)

    real_find_refs = matching.find_refs

    def find_refs(cr: Any, inv: Any, rules: Any, found: Any = None) -> Any:
        sent.append("given" if found is not None else "none")
        return real_find_refs(cr, inv, rules, found)

    monkeypatch.setattr(matching, "_child_texts", senders_only)
    monkeypatch.setattr(matching, "find_refs", find_refs)
    with caplog.at_level(logging.WARNING, logger="reconcile.matching"):
        split = _decide(inputs)
    assert len(started) == 2
    assert "credit texts stopped (the pipe closed, exit 5): computed here" in caplog.text
    assert sent == ["given"]  # found here after the child stopped, then handed on
    _assert_same(one_process, split)


def test_the_texts_child_derives_what_decide_would(inputs: Inputs) -> None:
    """The child sends the sender columns, then ``credit_refs``, of the credits as decide
    prepares them, in line order whatever order they come in."""
    rules = inputs.rules.matching
    cr = matching._prepare_credits(inputs.credits)
    here = matching.credit_refs(cr, rules)
    shuffled = inputs.credits.sample(frac=1.0, random_state=3)  # any order in, line order out
    quoted = matching._quoted_numbers(shuffled, rules)
    assert len(here) > 1_000
    pd.testing.assert_frame_equal(quoted, here, check_exact=True)
    senders = matching._sender_columns(matching._in_line_order(shuffled))
    columns = ["sender_norm", "sender_key", "sender_kept", "sender_may_be_cut", "sender_norm_code",
               "sender_kept_code"]  # fmt: skip
    assert list(senders.columns) == columns
    pd.testing.assert_frame_equal(senders, cr[columns], check_exact=True)
    assert (senders["sender_norm"] != "").sum() > 5_000


def test_small_inputs_stay_in_one_process(
    inputs: Inputs, one_process: MatchResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _counting_forks(monkeypatch)
    monkeypatch.setattr(matching, "PARALLEL_MIN_CREDITS", len(inputs.credits) + 1)
    _assert_same(one_process, _decide(inputs))
    assert started == []


def test_the_pipe_carries_frames_and_arrays_exactly() -> None:
    frame = pd.DataFrame(
        {"a": pd.array([1, 2, 3], dtype="int16"), "level": pd.Categorical(["x", "y", "x"]),
         "t": ["p", "", "q"]}
    )  # fmt: skip

    def answer(channel: forked.Channel) -> None:  # the frame as the child has it, by the fork
        channel.send([frame, frame.iloc[:0]])

    with forked.Child(answer) as child:
        back = child.receive(timeout=30)
    pd.testing.assert_frame_equal(back[0], frame, check_exact=True)
    pd.testing.assert_frame_equal(back[1], frame.iloc[:0], check_exact=True)
    assert child.status == 0
