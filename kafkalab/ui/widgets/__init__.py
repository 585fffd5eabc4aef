"""Panels of the lab screen. Each reads a :class:`~kafkalab.ui.view.LabView` and posts messages up."""

from .brokers import BrokersPanel
from .console import Console
from .groups import GroupsPanel
from .log_strip import LogStrip
from .producers import ProducersPanel
from .status import StatusBar
from .timeline import TimelinePanel
from .topics import TopicsTable

__all__ = [
    "BrokersPanel",
    "Console",
    "GroupsPanel",
    "LogStrip",
    "ProducersPanel",
    "StatusBar",
    "TimelinePanel",
    "TopicsTable",
]
