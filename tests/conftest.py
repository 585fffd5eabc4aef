"""Refuse to test stale compiled code: after editing kafkalab/sim, rebuild (see kafkalab.build). Clusters'
temporary files go to tmpfs when the machine has room there (kafkalab.scratch)."""

from __future__ import annotations

import pytest

from kafkalab import build
from kafkalab.scratch import use_fast_scratch

use_fast_scratch()


def pytest_sessionstart(session: pytest.Session) -> None:
    stale = build.stale_sources()
    if stale:
        pytest.exit(build.STALE_HINT.format(files=", ".join(stale)), returncode=2)


def pytest_report_header() -> str:
    return f"kafkalab {build.describe()}"
