"""Personal identifiers (身份证号): keyed hash for matching, masked form for display.

The plain number is never stored (DESIGN.md): the hash is HMAC-SHA256 keyed with
settings.PERSONAL_ID_KEY, so the same person matches across institutions and imports,
while a copy of the database alone cannot be searched for a known number.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

from django.conf import settings

# GB 11643-1999: 17 digits and a check character (0-9 or X), ISO 7064 MOD 11-2.
ID_CARD = re.compile(r"^\d{17}[\dX]$")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# Other identifiers (a child's birth-certificate or health-record number) are free-form.
OTHER_ID = re.compile(r"^[0-9A-Z-]{6,32}$")


class PersonalIdError(ValueError):
    pass


def normalize(number: str) -> str:
    return re.sub(r"\s+", "", str(number)).upper()


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def check(number: str, *, id_card_only: bool = True) -> str:
    """The normalised number, or PersonalIdError saying what is wrong (never echoing it)."""
    number = normalize(number)
    if ID_CARD.match(number):
        if check_char(number[:17]) != number[17]:
            raise PersonalIdError("the ID-card number's check digit is wrong")
        if birth_date(number) is None:
            raise PersonalIdError("the ID-card number holds no valid birth date")
        return number
    if id_card_only:
        raise PersonalIdError("an ID-card number has 18 characters: 17 digits and 0-9 or X")
    if not OTHER_ID.match(number):
        raise PersonalIdError("an identifier has 6-32 letters, digits or hyphens")
    return number


def hash_id(number: str) -> str:
    """HMAC-SHA256 of the normalised number, hex (64 characters)."""
    key = settings.PERSONAL_ID_KEY.encode()
    return hmac.new(key, normalize(number).encode(), hashlib.sha256).hexdigest()


def mask(number: str) -> str:
    """First four and last four characters kept: 640323196001011234 → 6403**********1234."""
    number = normalize(number)
    keep = 4 if len(number) > 8 else 1
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[-keep:]


def birth_date(number: str) -> date | None:
    """The birth date written in an 18-character ID-card number (digits 7-14), else None."""
    number = normalize(number)
    if not ID_CARD.match(number):
        return None
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def sex(number: str) -> str:
    """'male' or 'female' from digit 17 of an ID-card number (odd = male), else ''."""
    number = normalize(number)
    if not ID_CARD.match(number):
        return ""
    return "male" if int(number[16]) % 2 else "female"


def make_id_card(prefix6: str, born: date, serial: int) -> str:
    """A well-formed number (for demo data and tests): area, birth date, 3-digit serial."""
    first17 = f"{prefix6}{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + check_char(first17)
