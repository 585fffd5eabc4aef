"""Panels of the lab screen. Each reads a :class:`~kafkalab.ui.view.LabView` and posts messages up."""

from .brokers import BrokersPanel
from .charts import ChartsPanel
from .console import Console
from .diagram import ClusterDiagram
from .filter_bar import FilterBar
from .groups import GroupsPanel
from .log_strip import LogStrip
from .producers import ProducersPanel
from .status import StatusBar
from .timeline import TimelineBox, TimelinePanel
from .topics import TopicsTable

__all__ = [
    "BrokersPanel",
    "ChartsPanel",
    "ClusterDiagram",
    "Console",
    "FilterBar",
    "GroupsPanel",
    "LogStrip",
    "ProducersPanel",
    "StatusBar",
    "TimelineBox",
    "TimelinePanel",
    "TopicsTable",
]
