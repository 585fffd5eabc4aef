"""Bad input never crashes the lab nor loses progress: the progress file, and a fuzz of lesson loading."""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkalab.lessons import LessonError, LessonRun, ProgressStore, parse_lesson
from kafkalab.lessons import progress as progress_mod
from kafkalab.lessons.loader import lesson_files
from kafkalab.lessons.progress import remove_stale_temps

# -- progress ---------------------------------------------------------------------------------------------


def test_data_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KAFKALAB_DATA_DIR", str(tmp_path / "k"))
    assert progress_mod.data_dir() == tmp_path / "k"
    monkeypatch.delenv("KAFKALAB_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert progress_mod.data_dir() == tmp_path / "xdg" / "kafkalab"


def test_progress_round_trip_only_grows_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    assert store.all() == {}
    assert store.record("a", 1, False) and store.record("a", 2, False) and store.record("b", 3, True)
    assert store.record("a", 1, False)  # a restart never erases what was reached
    again = ProgressStore(tmp_path)
    assert again.get("a")["step"] == 2 and again.get("b")["completed"] is True  # type: ignore[index]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["progress.json", "progress.json.bak"]


def test_the_backup_is_the_last_save_not_the_one_before(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    store.record("a", 1, False)
    store.record("a", 2, False)
    assert json.loads(store.backup.read_text()) == json.loads(store.path.read_text())
    store.path.write_text('{"version": 2, "lessons": {"a": {"st')  # torn by something else
    assert ProgressStore(tmp_path).get("a")["step"] == 2  # type: ignore[index]


@pytest.mark.parametrize("bad", ["abc", None, [1, 2], float("nan"), float("inf"), -5, True, {"x": 1}])
def test_bad_entries_count_as_nothing_and_never_raise(tmp_path: Path, bad: object) -> None:
    doc = {"version": 1, "lessons": {"a": {"step": bad, "completed": "yes"}, "b": "junk", "c": []}}
    (tmp_path / "progress.json").write_text(json.dumps(doc, allow_nan=True))
    store = ProgressStore(tmp_path)
    assert store.get("a") == {"step": 0, "completed": False, "updated": 0}
    assert store.get("b") is None and set(store.all()) == {"a"}
    assert store.record("a", 2, False) and store.get("a")["step"] == 2  # type: ignore[index]
    assert store.record_prediction("a", 1, "x", True)


def test_a_deep_or_huge_progress_file_does_not_crash_lessons_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kafkalab.cli import main

    (tmp_path / "progress.json").write_text("[" * 100_000 + "]" * 100_000)
    monkeypatch.setenv("KAFKALAB_DATA_DIR", str(tmp_path))
    assert ProgressStore(tmp_path).all() == {}
    assert main(["lessons", "list"]) == 0
    assert "The kafkalab course" in capsys.readouterr().out
    (tmp_path / "progress.json").write_text(" " * (progress_mod.MAX_PROGRESS_BYTES + 10) + "{}")
    assert ProgressStore(tmp_path).all() == {}


def test_temp_files_of_killed_saves_are_removed(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    store.record("a", 1, False)
    dead_pid = 2**22 + 12345  # above pid_max on Linux: no such process
    for i in range(30):
        (tmp_path / f".progress.json.{dead_pid}.x{i}.tmp").write_text("{")
    old = tmp_path / ".progress.json.bak.keep.tmp"
    old.write_text("{")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    mine = tmp_path / f".progress.json.{os.getpid()}.live.tmp"
    mine.write_text("{")  # a save of this very process still under way: kept
    store.record("a", 2, False)
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp"))
    assert left == [mine.name]
    assert remove_stale_temps(tmp_path, "progress.json") == 0


def test_a_crash_during_the_write_keeps_the_old_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ProgressStore(tmp_path)
    store.record("a", 1, False)

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    assert store.record("a", 5, True) is False
    assert store.last_error is not None and "disk full" in store.last_error
    monkeypatch.undo()
    assert json.loads(store.path.read_text())["lessons"]["a"]["step"] == 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_progress_in_an_unwritable_place_does_not_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = ProgressStore(blocker / "sub")
    assert store.record("a", 1, False) is False and store.all() == {}


def test_a_saved_step_beyond_the_lesson_opens_at_its_last_step(tmp_path: Path) -> None:
    from kafkalab.lessons import load_lesson

    store = ProgressStore(tmp_path)
    (tmp_path / "progress.json").write_text(json.dumps({"lessons": {"batching": {"step": 10**9}}}))
    run = LessonRun(load_lesson("batching"), progress=store)
    try:
        assert run.resume_step == 1
    finally:
        run.close()


# -- fuzz: random and mutated lesson files give a LessonError or a lesson, nothing else -------------------

SHIPPED = [p.read_text() for p in lesson_files()]


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        op = rng.randrange(7)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, rng.choice(lines))
        elif op == 2:  # change a value
            head, sep, _tail = lines[i].partition(": ")
            if sep:
                lines[i] = (
                    head
                    + sep
                    + rng.choice(
                        [
                            "-1",
                            "0",
                            "abc",
                            "99999999999999999999",
                            "[]",
                            "{}",
                            "null",
                            "1e20",
                            "&a x",
                            "*a",
                            "~",
                            "'",
                        ]
                    )
                )
        elif op == 3:  # shift indentation
            lines[i] = " " * rng.randrange(0, 9) + lines[i].lstrip()
        elif op == 4:
            pos = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:pos] + rng.choice(":-[]{}#&*!|>'\"%@`\t\x00é") + lines[i][pos:]
        elif op == 5:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        else:
            lines[i] = lines[i].replace("at_least", rng.choice(["at_most", "equals", "at_least", "colour"]))
    return "\n".join(lines) + "\n"


def _load_or_refuse(text: str) -> object:
    try:
        return parse_lesson(text, "fuzz.yaml")
    except LessonError as e:
        assert e.issues and all(i.message for i in e.issues)
        return None


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=400))
def test_fuzz_random_text_never_raises_anything_but_a_lesson_error(text: str) -> None:
    _load_or_refuse(text)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.integers(min_value=0, max_value=2**32), st.sampled_from(range(len(SHIPPED))))
def test_fuzz_mutated_lessons_load_or_are_refused_with_file_line(seed: int, which: int) -> None:
    _load_or_refuse(_mutate(SHIPPED[which], random.Random(seed)))


def test_fuzz_mutated_lessons_that_load_also_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the validator accepts opens without an internal error (its setup may fail: LessonError)."""
    if Path("/dev/shm").is_dir():
        monkeypatch.setattr(tempfile, "tempdir", "/dev/shm")
    rng = random.Random(20261130)
    opened = refused = 0
    for _ in range(80):  # 23 lessons: enough tries that both kinds stay above 10
        lesson = _load_or_refuse(_mutate(rng.choice(SHIPPED), rng))
        if lesson is None:
            refused += 1
            continue
        try:
            run = LessonRun(lesson)  # type: ignore[arg-type]
        except LessonError:
            refused += 1
            continue
        opened += 1
        run.close()
    assert opened > 10 and refused > 10
