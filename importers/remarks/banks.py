"""Indonesian bank identifiers as they appear in statement descriptions (formats.md §8.8).

BCA lines carry 3-digit clearing codes (``DR 008``), Mandiri and BNI references carry 8-letter
BICs (``CENAIDJA/``), BCA LLG lines carry a bank name (``LLG-CIMB NIAGA``). All map to one short
name. Codes 002, 008, 009 and 013 were seen in statements; the rest follow the standard lists.
"""

from __future__ import annotations

# (short name, 3-digit clearing code, BIC8)
_BANKS: tuple[tuple[str, str, str], ...] = (
    ("BRI", "002", "BRINIDJA"),
    ("MANDIRI", "008", "BMRIIDJA"),
    ("BNI", "009", "BNINIDJA"),
    ("DANAMON", "011", "BDINIDJA"),
    ("PERMATA", "013", "BBBAIDJA"),
    ("BCA", "014", "CENAIDJA"),
    ("MAYBANK", "016", "IBBKIDJA"),
    ("PANIN", "019", "PINBIDJA"),
    ("CIMB NIAGA", "022", "BNIAIDJA"),
    ("OCBC NISP", "028", "NISPIDJA"),
    ("BTN", "200", "BTANIDJA"),
    ("BSI", "451", "BSMDIDJA"),
)

BANK_BY_CODE: dict[str, str] = {code: name for name, code, _ in _BANKS}
BANK_BY_BIC: dict[str, str] = {bic: name for name, _, bic in _BANKS}

# Bank names as written after BCA's ``LLG-`` (and in other free text), longest first so that
# "CIMB NIAGA" wins over a shorter prefix. Value: the short name used everywhere else.
BANK_NAMES: dict[str, str] = {
    "BANK RAKYAT INDONESIA": "BRI",
    "BANK NEGARA INDONESIA": "BNI",
    "BANK TABUNGAN NEGARA": "BTN",
    "BANK DANAMON INDONESIA": "DANAMON",
    "BANK CENTRAL ASIA": "BCA",
    "BANK DANAMON": "DANAMON",
    "BANK SYARIAH INDONESIA": "BSI",
    "BANK CIMB NIAGA": "CIMB NIAGA",
    "BANK PERMATA": "PERMATA",
    "BANK MANDIRI": "MANDIRI",
    "MAYBANK INDONESIA": "MAYBANK",
    "DBS INDONESIA": "DBS",
    "CIMB NIAGA": "CIMB NIAGA",
    "OCBC NISP": "OCBC NISP",
    "BANK BRI": "BRI",
    "BANK BNI": "BNI",
    "BANK BCA": "BCA",
    "BANK BTN": "BTN",
    "BANK BSI": "BSI",
    "MAYBANK": "MAYBANK",
    "DANAMON": "DANAMON",
    "PERMATA": "PERMATA",
    "MANDIRI": "MANDIRI",
    "PANIN": "PANIN",
    "CIMB": "CIMB NIAGA",
    "BRI": "BRI",
    "BNI": "BNI",
    "BCA": "BCA",
    "BTN": "BTN",
    "BSI": "BSI",
    "UOB": "UOB",
    "HSBC": "HSBC",
    "MEGA": "MEGA",
    "BJB": "BJB",
}

# E-wallets that appear as the "sender" of a transfer: the real payer is unknown (§8.1).
WALLETS: frozenset[str] = frozenset(
    {"DANA", "OVO", "GOPAY", "GO-PAY", "SHOPEEPAY", "LINKAJA", "FLIP", "DOKU", "ISAKU"}
)
WALLET_BIC_PREFIXES: tuple[str, ...] = ("DANAIDJ1",)


def bank_from_code(code: str) -> str | None:
    """'008' -> 'MANDIRI'; an unknown code -> None (the caller keeps the code itself)."""
    return BANK_BY_CODE.get(code.strip())


def bank_from_bic(bic: str) -> str | None:
    """'BNIAIDJA' (or an 11-char BIC with branch) -> 'CIMB NIAGA'; unknown -> None."""
    b = bic.strip().upper()
    if b.startswith(WALLET_BIC_PREFIXES):
        return "DANA"
    return BANK_BY_BIC.get(b[:8])


# lookup order for bank_from_name: longest written name first, sorted once
_BANK_NAMES_LONGEST_FIRST: tuple[tuple[str, str], ...] = tuple(
    (written, BANK_NAMES[written]) for written in sorted(BANK_NAMES, key=len, reverse=True)
)


def bank_from_name(text: str) -> tuple[str, str] | None:
    """The bank name that ``text`` starts with: (short name, the words as written), or None.

    'CIMB NIAGA PT MAJU JAYA' -> ('CIMB NIAGA', 'CIMB NIAGA'). Longest name first, whole words only.
    """
    upper = text.upper()
    for written, short in _BANK_NAMES_LONGEST_FIRST:
        if upper.startswith(written) and (len(upper) == len(written) or upper[len(written)] == " "):
            return short, text[: len(written)]
    return None


def is_wallet(name: str | None) -> bool:
    """True when a 'sender name' is an e-wallet rather than a person ('DANA', 'OVO', 'DANA-…')."""
    if not name:
        return False
    first = name.strip().upper().replace("-", " ").split()
    if not first:
        return False
    return first[0] in WALLETS or name.strip().upper() in WALLETS
