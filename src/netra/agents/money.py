"""How money and counts are written in answers: ``$12,345.67`` (DATA.md section 4)."""

from __future__ import annotations


def usd(amount: float) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def count(value: float) -> str:
    return f"{value:,.0f}"


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"
