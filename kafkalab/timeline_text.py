"""Timeline entries in plain language, for people: no Python reprs, Kafka's own ways of writing things.

The simulation's timeline texts stay as they are (tools parse them: the compare ledger, lesson goals);
this layer rewrites them for display only:

* ``network partition: ['broker-1'] cannot reach ['broker-2', 'controller-3000']`` →
  ``network partition: broker-1 cannot reach broker-2, controller-3000``
* ``partition t-0: leader 3→-1, epoch 5`` → ``partition t-0: leader 3 → no leader (offline), epoch 5``
* ``partition t-0: ISR [1, 2, 3]→[1, 3]`` → ``partition t-0: Isr 1,2,3 → 1,3`` (as ``kafka-topics --describe``
  writes an ISR)
* ``topic t configs changed: {'min.insync.replicas': '2', 'retention.ms': None}`` →
  ``topic t configs changed: min.insync.replicas=2, retention.ms deleted``

Used by the lab's timeline, the Compare screen's journeys and ``kafkalab compare``. Headless (no Textual).
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache

__all__ = ["INTERNAL_TOPIC", "is_internal", "natural_key", "plain_entry"]

#: a partition or topic name of Kafka's internal topics (``__consumer_offsets-7``, ``__transaction_state``)
INTERNAL_TOPIC = re.compile(r"\b__[A-Za-z_]+(?:-\d+)?\b")

_LIST = re.compile(r"\[(?:'[^'\]]*'|\"[^\"\]]*\"|-?\d+)(?:, (?:'[^'\]]*'|\"[^\"\]]*\"|-?\d+))*\]|\[\]")
_DICT = re.compile(r"\{(?:'[^']*': (?:'[^']*'|None|-?\d+|True|False)(?:, )?)*\}")
_LEADER = re.compile(r"\bleader (-?\d+)→(-?\d+)")
_ISR = re.compile(r"\bISR (\[[^\]]*\])→(\[[^\]]*\])")
_DIGITS = re.compile(r"(\d+)")


def _leader_change(m: re.Match[str]) -> str:
    old, new = int(m.group(1)), int(m.group(2))
    if new < 0:
        return f"leader {old} → no leader (offline)"
    if old < 0:
        return f"no leader (offline) → leader {new}"
    return f"leader {old} → {new}"


def _ids(text: str) -> str:
    """``[1, 2, 3]`` → ``1,2,3`` (an empty list: ``none``)."""
    items = [x.strip() for x in text.strip("[]").split(",") if x.strip()]
    return ",".join(items) if items else "none"


def _literal_list(m: re.Match[str]) -> str:
    try:
        value = ast.literal_eval(m.group())
    except (ValueError, SyntaxError):
        return m.group()
    return ", ".join(str(v) for v in value) if value else "nothing"


def _literal_dict(m: re.Match[str]) -> str:
    try:
        value = ast.literal_eval(m.group())
    except (ValueError, SyntaxError):
        return m.group()
    if not value:
        return "nothing"
    return ", ".join(f"{k} deleted" if v is None else f"{k}={v}" for k, v in value.items())


@lru_cache(maxsize=4096)
def plain_entry(text: str) -> str:
    """``text`` (a timeline entry) as a learner should read it."""
    out = _LEADER.sub(_leader_change, text)
    out = _ISR.sub(lambda m: f"Isr {_ids(m.group(1))} → {_ids(m.group(2))}", out)
    out = _DICT.sub(_literal_dict, out)
    return _LIST.sub(_literal_list, out)


def is_internal(text: str) -> bool:
    """Whether an entry is about one of Kafka's internal topics (folded away by default)."""
    return "__" in text and INTERNAL_TOPIC.search(text) is not None


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts ``orders-2`` before ``orders-10`` (numbers compare as numbers)."""
    return tuple((1, int(p)) if p.isdigit() else (0, p) for p in _DIGITS.split(name) if p)
