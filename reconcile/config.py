"""rules.yaml, checked once at start-up (pydantic, extra keys forbidden).

Every problem is reported at once, each by key path and line in the file, e.g.
``rules.yaml: line 14: matching.auto_threshold: Input should be less than or equal to 100 (got 140)``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reconcile.errors import ConfigError

BANKS = ("mandiri", "bca", "bni", "bri")
ACCOUNT_DIGITS = {"mandiri": 13, "bca": 10, "bni": 10, "bri": 15}
DB_URL_ENV = "RECONCILE_DB_URL"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Account(_Strict):
    bank: Literal["mandiri", "bca", "bni", "bri"]
    account_no: Annotated[str, Field(description="digits only, as a string (quote it in YAML)")]
    holder: str

    @field_validator("account_no", mode="before")
    @classmethod
    def _must_be_string(cls, v: Any) -> Any:
        if isinstance(v, int):
            raise ValueError(
                'must be a quoted string so that leading zeros survive, e.g. "0372543386"'
            )
        return v

    @field_validator("account_no")
    @classmethod
    def _digits(cls, v: str) -> str:
        if not re.fullmatch(r"\d{6,20}", v):
            raise ValueError(f"must be 6-20 digits (got {v!r})")
        return v

    @model_validator(mode="after")
    def _length_for_bank(self) -> Account:
        want = ACCOUNT_DIGITS[self.bank]
        if len(self.account_no) != want:
            raise ValueError(
                f"a {self.bank.upper()} account number has {want} digits "
                f"(got {len(self.account_no)}: {self.account_no})"
            )
        return self


class Paths(_Strict):
    inbox: str = "inbox"
    archive: str = "archive"
    rejected: str = "rejected"
    reports: str = "reports"
    invoices: str | None = None
    confirmations: str | None = None
    log_file: str | None = "logs/reconcile.log"


class Sources(_Strict):
    """Where invoices and confirmations come from: files (paths.*) or the WHMCS database."""

    invoices: Literal["file", "whmcs"] = "file"
    confirmations: Literal["file", "whmcs"] = "file"
    whmcs_url: str | None = None  # mysql+pymysql://user@host/whmcs (read-only user)
    whmcs_billing_department: str = "Billing"
    invoice_columns: dict[str, str] = Field(default_factory=dict)  # their name -> our name
    confirmation_columns: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _url_when_whmcs(self) -> Sources:
        if "whmcs" in (self.invoices, self.confirmations) and not self.whmcs_url:
            raise ValueError("whmcs_url is required when a source is 'whmcs'")
        return self


class Tolerance(_Strict):
    absolute: Decimal = Decimal("0")  # rupiah
    percent: Decimal = Decimal("0")  # of the invoice amount

    def allows(self, difference: Decimal, invoice_amount: Decimal) -> bool:
        limit = max(self.absolute, invoice_amount * self.percent / 100)
        return difference <= limit


class Matching(_Strict):
    """Thresholds and windows for the matcher. Windows count Indonesian banking days."""

    auto_threshold: Annotated[int, Field(ge=0, le=100)] = 90
    review_threshold: Annotated[int, Field(ge=0, le=100)] = 50
    name_match_min: Annotated[int, Field(ge=0, le=100)] = 85
    underpaid_tolerance: Tolerance = Tolerance(absolute=Decimal("6500"), percent=Decimal("0"))
    overpaid_tolerance: Tolerance = Tolerance(absolute=Decimal("0"), percent=Decimal("0"))
    date_window_days: Annotated[int, Field(ge=0, le=31)] = 10
    confirmation_date_window_days: Annotated[int, Field(ge=0, le=31)] = 3
    confirmation_funds_wait_days: Annotated[int, Field(ge=0, le=31)] = 2
    split_window_days: Annotated[int, Field(ge=0, le=62)] = 14
    max_block_size: Annotated[int, Field(ge=2, le=100000)] = 50
    max_combined_invoices: Annotated[int, Field(ge=1, le=8)] = 4
    invoice_number_digits: tuple[int, int] = (4, 8)
    extra_holidays: list[date] = Field(default_factory=list)  # cuti bersama etc.

    @model_validator(mode="after")
    def _order(self) -> Matching:
        if self.review_threshold > self.auto_threshold:
            raise ValueError("review_threshold must not exceed auto_threshold")
        return self


class Schedule(_Strict):
    every_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    daily_report_at: str = "07:00"
    lock_wait_seconds: Annotated[int, Field(ge=0, le=3600)] = 0

    @field_validator("daily_report_at")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError(f"must be HH:MM (got {v!r})")
        return v


class Mail(_Strict):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 25
    starttls: bool = False
    sender: str = "reconcile@localhost"
    recipients: list[str] = Field(default_factory=list)
    username_env: str | None = "RECONCILE_SMTP_USER"
    password_env: str | None = "RECONCILE_SMTP_PASSWORD"


class Reports(_Strict):
    # rows shown per big routine sheet (auto-paid); the rest is in the CSVs
    max_rows_per_sheet: Annotated[int, Field(ge=1, le=1_048_574)] = 20_000


class Rules(_Strict):
    accounts: list[Account]
    database_url: str = "sqlite:///reconcile.db"
    language: Literal["id", "en"] = "id"
    keep_inbox: bool = False
    as_of: date | None = None
    paths: Paths = Paths()
    sources: Sources = Sources()
    matching: Matching = Matching()
    schedule: Schedule = Schedule()
    mail: Mail = Mail()
    reports: Reports = Reports()
    base_dir: str = "."  # set by the loader: relative paths are relative to rules.yaml

    @model_validator(mode="after")
    def _unique_accounts(self) -> Rules:
        seen: set[str] = set()
        for a in self.accounts:
            if a.account_no in seen:
                raise ValueError(f"account {a.account_no} is listed twice")
            seen.add(a.account_no)
        if not self.accounts:
            raise ValueError("at least one company account is required")
        return self

    def account_banks(self) -> dict[str, str]:
        return {a.account_no: a.bank for a in self.accounts}

    def path(self, value: str | None) -> Path | None:
        if value is None:
            return None
        p = Path(value)
        return p if p.is_absolute() else Path(self.base_dir) / p

    def resolved_db_url(self, override: str | None = None) -> str:
        url = override or os.environ.get(DB_URL_ENV) or self.database_url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            rel = url[len("sqlite:///") :]
            if rel and rel != ":memory:":
                url = "sqlite:///" + str(Path(self.base_dir) / rel)
        return url


# ---------------------------------------------------------------------------------------------
# loading with line numbers


class _LineLoader(yaml.SafeLoader):
    pass


def _mapping_with_lines(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    lines = {}
    for key_node, _ in node.value:
        lines[loader.construct_object(key_node)] = key_node.start_mark.line + 1
    mapping["__lines__"] = lines
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_lines)


def _strip_lines(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_lines(v) for k, v in obj.items() if k != "__lines__"}
    if isinstance(obj, list):
        return [_strip_lines(v) for v in obj]
    return obj


def _line_of(raw: Any, loc: tuple[int | str, ...]) -> int | None:
    node, line = raw, None
    for part in loc:
        if isinstance(node, dict):
            line = node.get("__lines__", {}).get(part, line)
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            if isinstance(node, dict):
                lines = node.get("__lines__", {})
                if lines:
                    line = min(lines.values())
        else:
            break
    return line


def _format_error(source: str, raw: Any, err: Mapping[str, Any]) -> str:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    path = ".".join(str(p) for p in loc) or "(top level)"
    line = _line_of(raw, loc)
    where = f"line {line}: " if line else ""
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling; see rules.yaml comments for the allowed keys)"
    elif "input" in err and not isinstance(err["input"], dict | list):
        msg = f"{msg} (got {err['input']!r})"
    return f"{where}{path}: {msg}"


def parse_rules(text: str, source: str = "rules.yaml", base_dir: Path | None = None) -> Rules:
    try:
        raw = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"not valid YAML: {exc}"]) from exc
    if not isinstance(raw, dict):
        raise ConfigError(source, ["expected a mapping of settings at the top level"])
    data = _strip_lines(raw)
    data["base_dir"] = str(base_dir) if base_dir is not None else "."
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        problems = [_format_error(source, raw, e) for e in exc.errors()]
        raise ConfigError(source, problems) from exc


def load_rules(path: Path) -> Rules:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror}"]) from exc
    return parse_rules(text, source=path.name, base_dir=path.resolve().parent)


def snapshot(rules: Rules) -> dict[str, Any]:
    """The configuration as stored with each run (secrets never included)."""
    data = rules.model_dump(mode="json")
    data.pop("base_dir", None)
    return data
