"""``kafkalab screenshot``: an SVG of a lesson step for course material, headless, progress untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkalab.cli import main


def test_a_solved_lesson_step_as_svg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "progress"
    monkeypatch.setenv("KAFKALAB_DATA_DIR", str(data))
    out = tmp_path / "step2.svg"
    argv = [
        "screenshot",
        "--lesson",
        "topics-partitions-offsets",
        "--step",
        "2",
        "--solved",
        "--size",
        "80x24",
    ]
    assert main([*argv, str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"saved {out} (80x24)"
    svg = out.read_text()
    assert svg.startswith("<svg") and "step&#160;2&#160;complete" in svg
    assert not data.exists()  # the learner's progress is not touched
    with pytest.raises(SystemExit):
        main(["screenshot", "--lesson", "topics-partitions-offsets", "--step", "9", str(out)])
    assert "has steps 1 to 3" in capsys.readouterr().err
