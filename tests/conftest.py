"""Refuse to test stale compiled code: after editing kafkalab/sim, rebuild (see kafkalab.build)."""

from __future__ import annotations

import pytest

from kafkalab import build


def pytest_sessionstart(session: pytest.Session) -> None:
    stale = build.stale_sources()
    if stale:
        pytest.exit(build.STALE_HINT.format(files=", ".join(stale)), returncode=2)


def pytest_report_header() -> str:
    return f"kafkalab {build.describe()}"
