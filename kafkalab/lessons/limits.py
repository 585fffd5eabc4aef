"""Limits and value types of lesson files, in one place for the validator and the loader.

A lesson file is untrusted input: it may be written by hand, generated, or hostile. Everything a lesson
file can make the lab do is bounded here, and both ``kafkalab lessons check`` and opening a lesson go
through :func:`~kafkalab.lessons.loader.parse_lesson`, which applies these limits before anything runs.
A file that passes the check therefore opens; one that breaks a limit gets a ``file:line: message``.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

__all__ = [
    "LOADER",
    "MAX_BROKERS",
    "MAX_CHOICES",
    "MAX_CLUSTERS",
    "MAX_COMMANDS_PER_PATH",
    "MAX_CONTROLLERS",
    "MAX_COUNT",
    "MAX_DEPTH",
    "MAX_DURATION_MS",
    "MAX_FILE_BYTES",
    "MAX_GOALS_PER_STEP",
    "MAX_HINT_CHARS",
    "MAX_PARTITIONS",
    "MAX_PATHS_PER_KIND",
    "MAX_SCALAR_CHARS",
    "MAX_STEPS",
    "MAX_YAML_EVENTS",
    "broker_config_issue",
    "duration_ms",
    "scan_yaml",
    "topic_config_issue",
]

#: libyaml's parser when PyYAML was built with it (ten times faster), else the pure-Python one
LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: a lesson file larger than this is refused before it is parsed
MAX_FILE_BYTES = 256 * 1024
#: YAML parser events (scalars, mapping and sequence starts ...) in one file
MAX_YAML_EVENTS = 50_000
#: how deeply mappings and lists may nest (lessons need about 7)
MAX_DEPTH = 20
#: characters in one text value
MAX_SCALAR_CHARS = 20_000
MAX_STEPS = 40
MAX_GOALS_PER_STEP = 12
#: alternative paths, and wrong paths, per step
MAX_PATHS_PER_KIND = 8
MAX_COMMANDS_PER_PATH = 200
MAX_CHOICES = 6
#: numbers in goals (counts, offsets)
MAX_COUNT = 1_000_000_000
#: any duration in a lesson: setup run, fault times, ``run`` and ``wait-for --timeout`` in paths
MAX_DURATION_MS = 3_600_000
MAX_BROKERS = 9
#: clusters in a lesson with several (``setup.clusters``), as a World allows
MAX_CLUSTERS = 4
MAX_CONTROLLERS = 5
MAX_PARTITIONS = 64
#: a hint is printed as one console line "hint N: ..." and must fit 80 columns
MAX_HINT_CHARS = 70


_CORE_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")}


def scan_yaml(text: str) -> tuple[int, str] | None:
    """Check ``text`` against the YAML limits without building anything: (line, problem) or None.

    Anchors and aliases are refused (they are how "billion laughs" files blow up, and lessons never need
    them); so are explicit tags other than YAML's core ones, deep nesting, huge texts and too many nodes.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        return 1, f"the file is larger than {MAX_FILE_BYTES // 1024} KiB"
    depth = 0
    events = 0
    try:
        for ev in yaml.parse(text, Loader=LOADER):
            events += 1
            line = ev.start_mark.line + 1 if ev.start_mark is not None else 1
            if events > MAX_YAML_EVENTS:
                return line, f"the file has more than {MAX_YAML_EVENTS} YAML values"
            if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None):
                return line, "YAML anchors and aliases (&name, *name) are not allowed in lesson files"
            tag = getattr(ev, "tag", None)
            if tag and tag != "!" and tag not in _CORE_TAGS:
                return line, f"YAML tag '{tag}' is not allowed in lesson files"
            if isinstance(ev, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return line, f"values are nested more than {MAX_DEPTH} levels deep"
            elif isinstance(ev, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(ev, yaml.ScalarEvent) and len(ev.value) > MAX_SCALAR_CHARS:
                return line, f"a text value is longer than {MAX_SCALAR_CHARS} characters"
    except yaml.MarkedYAMLError:
        return None  # a syntax error: the parser that follows reports it with its line
    except yaml.YAMLError as e:
        return 1, f"YAML error: {e}"
    except RecursionError:
        return 1, f"values are nested more than {MAX_DEPTH} levels deep"
    return None


_DURATION_RX = re.compile(r"(\d{1,12}(?:\.\d{1,6})?)\s*(ms|s|m|h)?")


def duration_ms(value: Any, what: str) -> int:
    """Virtual ms from a lesson value (``500``, ``"2s"``, ``"1.5m"``); ValueError with a message if bad.

    Bounded by :data:`MAX_DURATION_MS` so no lesson value can make the lab run for ever.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what} must be a duration like 500, 2s or 1m")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise ValueError(f"{what} must be a whole number of ms or a duration like 2s, not {value!r}")
        value = int(value)
    if isinstance(value, int):
        ms = value
    else:
        m = _DURATION_RX.fullmatch(str(value).strip().lower())
        if not m:
            raise ValueError(f"{what} must be a duration like 500, 500ms, 2s or 1m, not '{value}'")
        factor = {"ms": 1, None: 1, "s": 1000, "m": 60_000, "h": 3_600_000}[m.group(2)]
        ms = int(float(m.group(1)) * factor)
    if ms < 0:
        raise ValueError(f"{what} must not be negative")
    if ms > MAX_DURATION_MS:
        raise ValueError(f"{what} must be at most {MAX_DURATION_MS // 60_000} minutes in a lesson")
    return ms


# -- configs -----------------------------------------------------------------------------------------------


def broker_config_issue(name: str, value: str) -> str | None:
    """What is wrong with a broker config of a lesson's ``broker_config`` (None if it is fine).

    Names are the ones the lab's brokers know (Kafka's); values get the same checks as everywhere else
    (:mod:`kafkalab.sim.configdefs`: Kafka's ranges, and at least 1 ms for intervals the lab runs as timers,
    since a 0 ms interval would make a broker do work at one instant for ever).
    """
    from ..sim.broker import BROKER_DEFAULTS
    from ..sim.configdefs import ConfigError, validate_config

    if name not in BROKER_DEFAULTS:
        import difflib

        close = difflib.get_close_matches(name, list(BROKER_DEFAULTS), n=1) if len(name) <= 80 else []
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"unknown broker config '{name[:80]}'{hint}"
    try:
        validate_config("broker", name, value)
    except ConfigError as e:
        return str(e)
    return None


def topic_config_issue(name: str, value: str) -> str | None:
    """What is wrong with a topic config of a lesson's topic (Kafka's checks, as ``kafka-topics`` does)."""
    from ..commands.parsing import CommandError
    from ..commands.topic_configs import validate_topic_config

    try:
        validate_topic_config(name, value)
    except CommandError as e:
        return str(e)
    return None
