"""Throwaway clusters' files go to tmpfs only when there is room there."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from kafkalab import scratch


def test_a_directory_is_used_only_with_enough_free_room(tmp_path: Path) -> None:
    assert scratch.fast_scratch_dir(str(tmp_path), min_free_bytes=0) == str(tmp_path)
    assert scratch.fast_scratch_dir(str(tmp_path), min_free_bytes=1 << 62) is None  # a 64 MB /dev/shm
    assert scratch.fast_scratch_dir(str(tmp_path / "missing"), min_free_bytes=0) is None


def test_without_room_the_system_temporary_directory_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(scratch.fast_scratch_dir, "__defaults__", (scratch.SHM, 1 << 62))
    assert scratch.use_fast_scratch() == str(tmp_path)
    monkeypatch.setattr(scratch.fast_scratch_dir, "__defaults__", (str(tmp_path / "shm"), 0))
    (tmp_path / "shm").mkdir()
    assert scratch.use_fast_scratch() == str(tmp_path / "shm")
