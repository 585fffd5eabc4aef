"""Lesson progress on disk, written atomically and never lost to a crash mid-write or a bad file.

The store is ``progress.json`` in the data directory (``$KAFKALAB_DATA_DIR``, else
``$XDG_DATA_HOME/kafkalab``, else ``~/.local/share/kafkalab``). A save writes a temporary file in the same
directory, fsyncs it and ``os.replace``s it over ``progress.json`` (then fsyncs the directory); then it
writes the same document to ``progress.json.bak`` the same way, so the backup is never behind the last
save. Loading falls back to the backup when the main file is missing, partial, corrupt, too large or too
deeply nested, and never raises. Every entry is cleaned on the way in (a ``step`` of "abc", null, a list or
NaN counts as 0), so a hand-edited file cannot crash the lab. Temporary files left by a killed process
are removed by the next save.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["MAX_PROGRESS_BYTES", "ProgressStore", "atomic_write", "data_dir"]

_VERSION = 2
#: a progress file larger than this is not read (a real one is a few KiB)
MAX_PROGRESS_BYTES = 1_000_000
#: at most this many lessons and predictions per lesson are kept
_MAX_LESSONS = 1000
_MAX_PREDICTIONS = 100
#: temporary files older than this are left-overs of a killed save
_STALE_TMP_S = 60.0


def data_dir() -> Path:
    env = os.environ.get("KAFKALAB_DATA_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "kafkalab"


def _int(value: Any, lo: int = 0, hi: int = 10_000) -> int:
    """A whole number from a value of any type: bad values (text, null, lists, NaN) count as ``lo``."""
    if isinstance(value, bool):
        return lo
    if isinstance(value, float):
        if not math.isfinite(value):
            return lo
        value = int(value)
    if not isinstance(value, int):
        return lo
    return max(lo, min(hi, value))


def _clean_entry(raw: Any) -> dict[str, Any] | None:
    """One lesson's entry with every field of the right type, or None if it is not an entry at all."""
    if not isinstance(raw, dict):
        return None
    entry: dict[str, Any] = {
        "step": _int(raw.get("step")),
        "completed": raw.get("completed") is True,
        "updated": _int(raw.get("updated"), 0, 2**62),
    }
    preds = raw.get("predictions")
    if isinstance(preds, dict):
        clean = {}
        for k, v in list(preds.items())[:_MAX_PREDICTIONS]:
            if (
                isinstance(k, str)
                and k.isdigit()
                and isinstance(v, dict)
                and isinstance(v.get("picked"), str)
            ):
                clean[k] = {"picked": v["picked"][:500], "right": v.get("right") is True}
        if clean:
            entry["predictions"] = clean
    return entry


def _clean(doc: Any) -> dict[str, Any] | None:
    if not isinstance(doc, dict) or not isinstance(doc.get("lessons"), dict):
        return None
    lessons: dict[str, Any] = {}
    for k, v in list(doc["lessons"].items())[:_MAX_LESSONS]:
        entry = _clean_entry(v)
        if isinstance(k, str) and len(k) <= 100 and entry is not None:
            lessons[k] = entry
    return {"version": _VERSION, "lessons": lessons}


def _read(path: Path) -> dict[str, Any] | None:
    try:
        if path.stat().st_size > MAX_PROGRESS_BYTES:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return None
    return _clean(doc)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}."


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash leaves either the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{_tmp_prefix(path)}{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    return True


def remove_stale_temps(directory: Path, name: str) -> int:
    """Delete temporary files of ``name`` left by killed saves (their process is gone, or they are old)."""
    removed = 0
    now = time.time()
    with contextlib.suppress(OSError):
        for p in directory.iterdir():
            if not (p.name.startswith(f".{name}.") and p.name.endswith(".tmp")):
                continue
            parts = p.name[len(name) + 2 :].split(".")
            pid = int(parts[0]) if parts and parts[0].isdigit() else -1
            try:
                old = now - p.stat().st_mtime > _STALE_TMP_S
            except OSError:
                continue
            if old or (pid >= 0 and not _pid_alive(pid)):
                with contextlib.suppress(OSError):
                    p.unlink()
                    removed += 1
    return removed


class ProgressStore:
    """Which lessons a learner finished, the step they reached in the others, and their predictions."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else data_dir()
        self.path = self.directory / "progress.json"
        self.backup = self.directory / "progress.json.bak"
        #: the last error while saving (saving never raises: progress must not crash a lesson)
        self.last_error: str | None = None

    def load(self) -> dict[str, Any]:
        doc = _read(self.path)
        if doc is None:
            doc = _read(self.backup)
        return doc if doc is not None else {"version": _VERSION, "lessons": {}}

    def get(self, lesson_id: str) -> dict[str, Any] | None:
        entry = self.load()["lessons"].get(lesson_id)
        return entry if isinstance(entry, dict) else None

    def all(self) -> dict[str, dict[str, Any]]:
        return dict(self.load()["lessons"])

    def record(self, lesson_id: str, step: int, completed: bool) -> bool:
        """Save that ``lesson_id`` reached ``step`` (steps done) and whether it is complete; True if saved.

        Progress only grows: a lower step or a restart never erases what was reached before.
        """
        doc = self.load()
        old = doc["lessons"].get(lesson_id) or {}
        entry = dict(old)
        entry["step"] = max(_int(step), _int(old.get("step")))
        entry["completed"] = bool(completed) or old.get("completed") is True
        entry["updated"] = int(time.time())
        doc["lessons"][lesson_id] = entry
        return self._save(doc)

    def record_prediction(self, lesson_id: str, step: int, picked: str, right: bool) -> bool:
        """Save the learner's prediction in a step (the first one counts); True if saved."""
        doc = self.load()
        entry = dict(doc["lessons"].get(lesson_id) or {"step": 0, "completed": False})
        preds = dict(entry.get("predictions") or {})
        preds.setdefault(str(_int(step)), {"picked": str(picked)[:500], "right": bool(right)})
        entry["predictions"] = preds
        entry["updated"] = int(time.time())
        doc["lessons"][lesson_id] = entry
        return self._save(doc)

    def reset(self, lesson_id: str | None = None) -> bool:
        doc = self.load()
        if lesson_id is None:
            doc["lessons"] = {}
        else:
            doc["lessons"].pop(lesson_id, None)
        return self._save(doc)

    def _save(self, doc: dict[str, Any]) -> bool:
        try:
            text = json.dumps(doc, indent=1, sort_keys=True)
            atomic_write(self.path, text)
            atomic_write(self.backup, text)  # the backup is the last save, not the one before
        except OSError as e:
            self.last_error = f"could not save lesson progress in {self.directory}: {e}"
            return False
        finally:
            for name in (self.path.name, self.backup.name):
                remove_stale_temps(self.directory, name)
        self.last_error = None
        return True
