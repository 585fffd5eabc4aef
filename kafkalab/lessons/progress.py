"""Lesson progress on disk, written atomically and never lost to a crash mid-write.

The store is ``progress.json`` in the data directory (``$KAFKALAB_DATA_DIR``, else
``$XDG_DATA_HOME/kafkalab``, else ``~/.local/share/kafkalab``). A save writes a temporary file in the same
directory, fsyncs it, and ``os.replace``s it over ``progress.json`` (then fsyncs the directory); before
that, the current good copy is kept as ``progress.json.bak``. Loading falls back to the backup when the
main file is missing, partial or corrupt, and never raises.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["ProgressStore", "data_dir"]

_VERSION = 1


def data_dir() -> Path:
    env = os.environ.get("KAFKALAB_DATA_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "kafkalab"


def _valid(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("lessons"), dict)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return doc if _valid(doc) else None


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash leaves either the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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


class ProgressStore:
    """Which lessons a learner finished and the step they reached in the others."""

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
        return {k: v for k, v in self.load()["lessons"].items() if isinstance(v, dict)}

    def record(self, lesson_id: str, step: int, completed: bool) -> bool:
        """Save that ``lesson_id`` reached ``step`` (steps done) and whether it is complete; True if saved."""
        doc = self.load()
        old = doc["lessons"].get(lesson_id) if isinstance(doc["lessons"].get(lesson_id), dict) else {}
        entry = {
            "step": max(int(step), int(old.get("step", 0))) if not completed else int(step),
            "completed": bool(completed or old.get("completed", False)),
            "updated": int(time.time()),
        }
        doc["lessons"][lesson_id] = entry
        doc["version"] = _VERSION
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
            current = _read(self.path)
            if current is not None:  # keep the last good copy before replacing it
                atomic_write(self.backup, json.dumps(current, indent=1, sort_keys=True))
            atomic_write(self.path, json.dumps(doc, indent=1, sort_keys=True))
        except OSError as e:
            self.last_error = f"could not save lesson progress in {self.directory}: {e}"
            return False
        self.last_error = None
        return True
