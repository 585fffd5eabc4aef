"""When a panel's new text needs a layout pass, and when a repaint of the panel alone will do."""

from __future__ import annotations

from rich.text import Text

__all__ = ["needs_layout"]


def needs_layout(old: Text | None, new: Text) -> bool:
    """True when ``new`` may take a different height than ``old`` (another line count or line lengths).

    A layout pass re-arranges and repaints the whole screen; a plain repaint redraws one panel. Panels whose
    height follows their content (``height: auto``) only need the former when the shape of the text changed:
    same number of lines and same line lengths wrap to the same height at any width.
    """
    if old is None:
        return True
    return [len(line) for line in old.plain.split("\n")] != [len(line) for line in new.plain.split("\n")]
