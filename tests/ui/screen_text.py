"""Helpers for the UI tests: the screen or a widget as plain text."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from textual.app import App


def screen_text(app: App[Any]) -> str:
    """What the terminal shows right now, as plain text lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


def renderable_text(renderable: Any, width: int = 200) -> str:
    """Render any Rich renderable (Text, Table, …) or Textual Content to plain text."""
    plain = getattr(renderable, "plain", None)
    if isinstance(plain, str):
        return plain
    console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def widget_text(widget: Any) -> str:
    """Plain text of what a widget renders (Static content or ``render()``)."""
    content = getattr(widget, "visual", None) or getattr(widget, "content", None)
    if content is None or hasattr(widget, "render") and not hasattr(widget, "update"):
        content = widget.render()
    return renderable_text(content)
