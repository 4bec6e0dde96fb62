"""The e-mail summary, against a real SMTP server on 127.0.0.1 started by the test."""

from __future__ import annotations

import logging
import shutil
import socket
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from reconcile.alerts import maybe_send_summary
from reconcile.config import parse_rules
from reconcile.pipeline import Rejection, RunOptions, RunResult

AS_OF = date(2026, 3, 10)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def options(port: int, tmp_path: Path) -> RunOptions:
    rules = parse_rules(
        f"""accounts:
  - bank: bca
    account_no: "0372543386"
    holder: RINA WULANDARI
mail:
  enabled: true
  host: 127.0.0.1
  port: {port}
  sender: reconcile@hosting.example
  recipients: [finance@hosting.example, rina@hosting.example]
  username_env: null
  password_env: null
"""
    )
    return RunOptions(rules=rules, inbox=tmp_path, out=tmp_path, db_url="sqlite://", as_of=AS_OF)


def result(review: int, unmatched: int, rejected: int) -> RunResult:
    return RunResult(
        run_id=7,
        exit_code=3 if rejected else 0,
        counts={"lines_new": 15, "invoices_paid": 2, "review": review, "unmatched": unmatched},
        rejections=[Rejection("notes.txt", "notes.txt: no importer recognises this file")]
        * rejected,
    )


def test_summary_is_mailed_when_items_wait_for_a_person(
    smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    assert maybe_send_summary(options(port, tmp_path), result(2, 8, 1)) is True
    [(rcpt, msg)] = inbox.messages
    assert rcpt == ["finance@hosting.example", "rina@hosting.example"]
    assert msg["Subject"] == "[reconcile] run 7 2026-03-10: 2 to review, 8 unidentified, 1 rejected"
    body = msg.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n")
    assert body.startswith(
        "run 7: 15 bank lines imported (0 already known), 2 invoices paid, "
        "2 items to review, 8 credits unidentified, 1 rejected"
    )
    assert "  - notes.txt: no importer recognises this file" in body


def test_nothing_is_mailed_when_nothing_waits(smtp: tuple[Inbox, int], tmp_path: Path) -> None:
    inbox, port = smtp
    assert maybe_send_summary(options(port, tmp_path), result(0, 0, 0)) is False
    assert inbox.messages == []


def test_unreachable_mail_server_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    with caplog.at_level(logging.ERROR, logger="reconcile.alerts"):
        assert maybe_send_summary(options(port, tmp_path), result(1, 0, 0)) is False
    [record] = caplog.records
    assert record.getMessage().startswith(f"could not send the run summary to 127.0.0.1:{port}: ")


def test_reconcile_run_mails_its_summary_when_work_waits(
    smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    """The quick-start run (3 lines to review, 1 unidentified) with mail enabled in rules.yaml."""
    from reconcile.cli import main

    inbox, port = smtp
    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "sample_data", tmp_path / "sample_data")
    rules = (repo / "rules.yaml").read_text(encoding="utf-8")
    mail = rules[rules.index("mail:") :]
    rules = rules.replace(
        mail,
        f"""mail:
  enabled: true
  host: 127.0.0.1
  port: {port}
  sender: reconcile@hosting.example
  recipients: [finance@hosting.example]
  username_env: null
  password_env: null
""",
    )
    (tmp_path / "rules.yaml").write_text(rules, encoding="utf-8")
    assert main(["run", "--rules", str(tmp_path / "rules.yaml"), "--quiet"]) == 0
    [(rcpt, msg)] = inbox.messages
    assert rcpt == ["finance@hosting.example"]
    assert msg["Subject"] == "[reconcile] run 1 2026-03-10: 3 to review, 1 unidentified, 0 rejected"
    body = msg.get_payload(decode=True).decode("utf-8")
    assert "reconcile_2026-03-10_run1.xlsx" in body


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login_takes_its_credentials_from_the_environment_and_a_refusal_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that requires AUTH: the summary goes through with the user and password the
    environment holds; a wrong password is refused, logged (without it), and not raised."""
    import io

    from aiosmtpd.smtp import AuthResult, LoginPassword

    from reconcile.logs import configure_logging

    seen: list[tuple[str, str]] = []

    def authenticator(_server: Any, _session: Any, _env: Any, _mech: str, data: Any) -> Any:
        assert isinstance(data, LoginPassword)
        seen.append((data.login.decode(), data.password.decode()))
        ok = data.password == b"s3cret-smtp-pass"
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535

    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
        auth_required=True, auth_require_tls=False,  # a test on 127.0.0.1: no TLS to require
        auth_exclude_mechanism=["LOGIN"],  # one mechanism: a refused PLAIN ends the attempt
    )  # fmt: skip
    controller.start()
    opts = options(port, tmp_path)
    mail = opts.rules.mail.model_copy(
        update={"username_env": "RECONCILE_SMTP_USER", "password_env": "RECONCILE_SMTP_PASSWORD"}
    )
    opts.rules = opts.rules.model_copy(update={"mail": mail})
    stream = io.StringIO()
    configure_logging(log_file=None, stream=stream, progress=False)
    try:
        monkeypatch.setenv("RECONCILE_SMTP_USER", "reconcile@hosting.example")
        monkeypatch.setenv("RECONCILE_SMTP_PASSWORD", "s3cret-smtp-pass")
        assert maybe_send_summary(opts, result(1, 0, 0)) is True
        monkeypatch.setenv("RECONCILE_SMTP_PASSWORD", "wrong-smtp-pass")
        assert maybe_send_summary(opts, result(1, 0, 0)) is False
    finally:
        controller.stop()
    assert seen == [("reconcile@hosting.example", "s3cret-smtp-pass"),
                    ("reconcile@hosting.example", "wrong-smtp-pass")]  # fmt: skip
    assert len(inbox.messages) == 1
    logged = stream.getvalue()
    assert "could not send the run summary" in logged
    assert "s3cret-smtp-pass" not in logged and "wrong-smtp-pass" not in logged
