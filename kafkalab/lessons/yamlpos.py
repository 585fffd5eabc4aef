"""Load YAML into plain Python values while remembering the line of every value (for ``file:line`` errors).

PyYAML's composer gives nodes with start marks; we convert the node tree ourselves so that each value's
path (a tuple of mapping keys and list indexes) maps to the 1-based line it starts on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["Located", "YamlError", "load_located"]

Path = tuple[str | int, ...]


class YamlError(Exception):
    """The text is not valid YAML (or uses YAML features lessons do not allow)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class Located:
    """A loaded document and the line where each value (by path) starts; keys' lines under ``("key", *path)``."""

    value: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int:
        """The line of ``path``, or of its nearest ancestor that has one (1 when nothing is known)."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)


_BOOL_TRUE = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"}
_BOOL_FALSE = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"}


def _scalar(node: yaml.ScalarNode) -> Any:
    tag = node.tag
    v = node.value
    if tag == "tag:yaml.org,2002:str":
        return v
    if tag == "tag:yaml.org,2002:int":
        try:
            return int(v.replace("_", ""), 0)
        except ValueError:
            return v
    if tag == "tag:yaml.org,2002:float":
        try:
            return float(v.replace("_", ""))
        except ValueError:
            return v
    if tag == "tag:yaml.org,2002:bool":
        if v in _BOOL_TRUE:
            return True
        if v in _BOOL_FALSE:
            return False
        return v
    if tag == "tag:yaml.org,2002:null":
        return None
    return v


def _convert(node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [_convert(child, (*path, i), lines) for i, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode):
                raise YamlError(knode.start_mark.line + 1, "mapping keys must be plain words")
            key = str(knode.value)
            if key in out:
                raise YamlError(knode.start_mark.line + 1, f"duplicate key '{key}'")
            lines[("key", *path, key)] = knode.start_mark.line + 1
            out[key] = _convert(vnode, (*path, key), lines)
        return out
    raise YamlError(node.start_mark.line + 1, "unsupported YAML node")  # pragma: no cover


def load_located(text: str) -> Located:
    """Parse one YAML document; raises :class:`YamlError` with the line of the problem.

    The text is first checked against the limits of :mod:`kafkalab.lessons.limits` (size, nesting, no
    anchors or aliases), so nothing here can blow up memory or the stack.
    """
    from .limits import LOADER, scan_yaml

    problem = scan_yaml(text)
    if problem is not None:
        raise YamlError(*problem)
    try:
        node = yaml.compose(text, Loader=LOADER)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = " ".join(x for x in (e.context, e.problem) if x) or "invalid YAML"
        raise YamlError(line, f"YAML syntax error: {what}") from None
    except yaml.YAMLError as e:
        raise YamlError(1, f"YAML error: {e}") from None
    except RecursionError:
        raise YamlError(1, "values are nested too deeply") from None
    if node is None:
        raise YamlError(1, "the file is empty")
    lines: dict[Path, int] = {}
    value = _convert(node, (), lines)
    return Located(value, lines)
