"""One registry of bank-export importers, and content-based detection (formats.md §2).

Adding a layout: write ``importers/<bank>_<layout>.py`` with a class implementing
:class:`importers.base.Importer`, add one line to ``REGISTRY`` below, and add samples plus
golden files under ``tests/importers/<name>/``.
"""

from __future__ import annotations

from pathlib import Path

from importers.base import FileSniff, Importer, ParseContext, sniff
from reconcile.errors import FileRejected
from reconcile.model import Statement

# One line per export layout. Order does not matter: detection requires exactly one claim.
REGISTRY: list[Importer] = []


def _register_all() -> None:
    """Import the importer modules listed in _MODULES and collect their ``IMPORTER`` objects."""
    import importlib

    for module_name in _MODULES:
        module = importlib.import_module(f"importers.{module_name}")
        REGISTRY.append(module.IMPORTER)


# module names under importers/, each exposing IMPORTER: Importer
_MODULES: list[str] = ["bca_klikbca_individual", "bni_bnidirect_csv", "bni_bnidirect_xls"]
_MODULES += ["mandiri_kopra_csv", "mandiri_mcm_csv", "mandiri_livin_xlsx"]
_MODULES += ["bca_klikbca_bisnis_csv", "bca_klikbca_bisnis_html", "bca_api_json"]
_MODULES += ["bri_estatement_csv", "mt940"]

_register_all()


def known_non_statement(s: FileSniff) -> str | None:
    """Files that are recognisably *not* a bank statement: say what they are (formats.md §2)."""
    if s.kind == "empty":
        return "file is empty"
    if s.kind == "pdf":
        return "PDF statements are not supported; download the CSV/XLS export instead"
    if s.kind == "ole2":
        problem = _ole2_problem(s.path)
        if problem:
            return problem
    if s.kind == "zip":
        problem = _zip_problem(s.path)
        if problem:
            return problem
    if s.kind == "text":
        first = s.first_lines(1)
        if first and first[0].startswith("invoice_no"):
            return "this is the invoice list, not a bank statement; pass it with --invoices"
        if first and first[0].startswith("ticket_id"):
            return (
                "this is the confirmation list, not a bank statement; pass it with --confirmations"
            )
    return None


def _ole2_problem(path: Path) -> str | None:
    """Why an OLE2 file (legacy .xls, or an encrypted .xlsx) cannot be a statement, if it cannot.

    A container olefile cannot open is damaged or truncated: olefile raises OleFileError (an
    OSError) but also ValueError and others on random bytes after the magic, and no reader
    could make more of it.
    """
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            encrypted = ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage")
    except Exception as exc:  # any failure of the container is the same verdict
        detail = str(exc) if isinstance(exc, OSError) else "its internal tables are inconsistent"
        return (
            f"damaged or truncated Excel file: the OLE2 container cannot be read ({detail}); "
            "download or export it again"
        )
    if encrypted:
        return (
            "file is a password-protected Office document; open it in Excel, "
            "save an unprotected copy and drop that in the inbox"
        )
    return None


def _zip_problem(path: Path) -> str | None:
    """A ZIP (XLSX) whose members do not all decompress to their checksum is damaged: say so
    here, rather than "no importer recognises this file" or a zlib error from a reader."""
    import zipfile
    import zlib

    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
        EOFError,
        OSError,
        ValueError,
    ) as exc:
        detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
    else:
        if bad is None:
            return None
        detail = f"member {bad} fails its checksum"
    return f"damaged or truncated Excel (XLSX) file ({detail}); download or export it again"


def detect(path: Path) -> Importer:
    """The one importer that claims ``path``, or FileRejected saying why none (or several) did."""
    s = sniff(path)
    reason = known_non_statement(s)
    if reason:
        raise FileRejected(path.name, reason)
    claims = [imp for imp in REGISTRY if imp.identify(s)]
    if len(claims) == 1:
        return claims[0]
    if not claims:
        tried = ", ".join(imp.name for imp in REGISTRY)
        raise FileRejected(path.name, f"no importer recognises this file (layouts tried: {tried})")
    names = ", ".join(imp.name for imp in claims)
    raise FileRejected(path.name, f"several importers claim this file ({names}); cannot decide")


def by_name(name: str) -> Importer:
    for imp in REGISTRY:
        if imp.name == name:
            return imp
    raise KeyError(name)


def read_statement_file(
    path: Path, ctx: ParseContext, accounts: dict[str, str]
) -> tuple[Importer, list[Statement]]:
    """Detect, parse and prove one file. Raises FileRejected; never returns half a file."""
    from dataclasses import replace

    from reconcile.validate import validate

    if not ctx.accounts:
        ctx = replace(ctx, accounts=dict(accounts))
    importer = detect(path)
    statements = importer.parse(path, ctx)
    return importer, validate(path.name, statements, accounts, as_of=ctx.as_of)


__all__ = [
    "REGISTRY",
    "FileSniff",
    "Importer",
    "ParseContext",
    "by_name",
    "detect",
    "read_statement_file",
    "sniff",
]
