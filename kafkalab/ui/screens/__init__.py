"""Screens of the lab besides the main one: help and rewind-to."""

from .help import HelpScreen
from .rewind import RewindScreen

__all__ = ["HelpScreen", "RewindScreen"]
