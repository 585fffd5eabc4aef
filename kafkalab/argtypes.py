"""Command-line argument types with stated limits, and a parser whose errors are one line.

``kafkalab demo --brokers 0`` must say what is wrong and what is allowed, in one line, not print a
traceback or quietly run something else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

__all__ = ["MAX_BROKERS", "OneLineErrorParser", "int_between"]

#: brokers of a lab cluster (as lesson files allow): the screen shows each one, and each is a full broker
MAX_BROKERS = 9


def int_between(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse ``type``: an integer from ``low`` to ``high`` (``what`` names it in the error)."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number of {what}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be from {low} to {high}, got {value}")
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


class OneLineErrorParser(argparse.ArgumentParser):
    """An ArgumentParser that reports a bad argument in one line (and where to read more)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)
