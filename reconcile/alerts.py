"""Optional e-mail summary after a run that leaves work for a person (rules.yaml ``mail``)."""

from __future__ import annotations

import logging
import os
import smtplib
from email.message import EmailMessage
from typing import TYPE_CHECKING

from reconcile.logs import add_secret

if TYPE_CHECKING:
    from reconcile.pipeline import RunOptions, RunResult

log = logging.getLogger("reconcile.alerts")


def needs_attention(result: RunResult) -> bool:
    c = result.counts
    return bool(c.get("review", 0) or c.get("unmatched", 0) or result.rejections)


def build_message(opts: RunOptions, result: RunResult) -> EmailMessage:
    mail = opts.rules.mail
    msg = EmailMessage()
    msg["From"] = mail.sender
    msg["To"] = ", ".join(mail.recipients)
    msg["Subject"] = (
        f"[reconcile] run {result.run_id} {opts.as_of.isoformat()}: "
        f"{result.counts.get('review', 0)} to review, {result.counts.get('unmatched', 0)} unidentified, "
        f"{len(result.rejections)} rejected"
    )
    lines = [result.summary(), ""]
    if result.rejections:
        lines.append("Rejected:")
        lines += [f"  - {r.reason}" for r in result.rejections]
        lines.append("")
    if result.reports:
        lines.append("Reports:")
        lines += [f"  {p}" for p in result.reports]
    msg.set_content("\n".join(lines))
    return msg


def send(opts: RunOptions, msg: EmailMessage) -> None:
    mail = opts.rules.mail
    user = os.environ.get(mail.username_env or "") if mail.username_env else None
    password = os.environ.get(mail.password_env or "") if mail.password_env else None
    add_secret(password)
    with smtplib.SMTP(mail.host, mail.port, timeout=30) as smtp:
        if mail.starttls:
            smtp.starttls()
        if user and password:
            smtp.login(user, password)
        smtp.send_message(msg)


def maybe_send_summary(opts: RunOptions, result: RunResult) -> bool:
    """Send the summary when mail is enabled and something waits for a person. Never raises."""
    mail = opts.rules.mail
    if not (mail.enabled and mail.recipients and needs_attention(result)):
        return False
    try:
        send(opts, build_message(opts, result))
    except (OSError, smtplib.SMTPException) as exc:
        log.error("could not send the run summary to %s:%s: %s", mail.host, mail.port, exc)
        return False
    return True
