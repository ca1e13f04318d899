"""How money and counts are written in answers: ``$12,345.67`` (DATA.md section 4)."""

from __future__ import annotations

import math


def usd(amount: float) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def count(value: float) -> str:
    return f"{value:,.0f}"


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def amount(value: float) -> str:
    """Money with the precision it needs: cents from $1, else 3 significant digits
    (``$0.0132`` per request, ``$0.75``), so a small figure never reads ``$0.00``."""
    if value == 0 or abs(value) >= 1:
        return usd(value)
    sign = "-" if value < 0 else ""
    digits = max(2, 2 - math.floor(math.log10(abs(value))))
    whole, _, cents = f"{abs(value):.{digits}f}".partition(".")
    return f"{sign}${whole}.{cents[:2]}{cents[2:].rstrip('0')}"  # $0.75, not $0.750
