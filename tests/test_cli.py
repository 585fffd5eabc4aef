"""The ``kafkalab`` command: bad numbers get one-line errors with the limits (issue 11, point 16), and
SIGTERM/SIGHUP leave no temporary data directory behind (point 15)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kafkalab.cli import main


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sandbox", "--brokers", "-1"], "brokers must be from 1 to 9, got -1"),
        (["sandbox", "--brokers", "0"], "brokers must be from 1 to 9, got 0"),
        (["sandbox", "--brokers", "1000"], "brokers must be from 1 to 9, got 1000"),
        (["demo", "--brokers", "0"], "brokers must be from 1 to 9, got 0"),
        (["demo", "--brokers", "-1"], "brokers must be from 1 to 9, got -1"),
        (["demo", "--brokers", "three"], "expected a whole number of brokers, got 'three'"),
        (["compare", "--records", "10000000"], "records must be from 1 to 2000, got 10000000"),
        (["compare", "--records", "0"], "records must be from 1 to 2000, got 0"),
    ],
)
def test_a_bad_count_is_one_line_that_states_the_limit(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)  # before: a traceback, a silent default of 3 brokers, or minutes of nothing
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and err.startswith(f"kafkalab {argv[0]}: error:")


def test_the_largest_allowed_demo_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--brokers", "9"]) == 0
    assert "events-0" in capsys.readouterr().out


CHILD = """
import os, signal, sys
from kafkalab import cli
from kafkalab.sim.cluster import Cluster

create_topic = Cluster.create_topic

def create_topic_then_get_signalled(self, *args, **kwargs):
    print(self.data_dir, flush=True)
    os.kill(os.getpid(), signal.{sig})  # like `kill -{sig}` while the demo runs
    return create_topic(self, *args, **kwargs)

Cluster.create_topic = create_topic_then_get_signalled
sys.exit(cli.main(["demo"]))
"""


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_a_terminating_signal_removes_the_temporary_data_directory(tmp_path: Path, sig: str) -> None:
    env = {"TMPDIR": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD.replace("{sig}", sig)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    data_dir = Path(proc.stdout.splitlines()[0])
    assert data_dir.parent == tmp_path and data_dir.name.startswith("kafkalab-")
    assert proc.returncode == 128 + getattr(signal, sig)  # a normal exit with the signal's status
    assert not data_dir.exists()  # before: left behind by every kill -TERM / hang-up
    assert list(tmp_path.iterdir()) == []
