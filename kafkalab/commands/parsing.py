"""Command-line parsing for the lab console: ``shlex`` tokens + a small joptsimple-like option parser.

Kafka's tools parse their options with joptsimple, so errors here use joptsimple's wording
(``topci is not a recognized option``, ``Option topic requires an argument``, ``Cannot parse argument 'x'
of option partitions``). Nothing here ever exits the process or raises anything but :class:`CommandError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "MAX_LINE_CHARS",
    "CommandError",
    "Opt",
    "Parsed",
    "parse_float",
    "parse_int",
    "parse_kv",
    "parse_options",
    "split_config_list",
    "split_line",
    "clip",
]

#: the longest console line the lab reads (a command, or a record typed into kafka-console-producer)
MAX_LINE_CHARS = 100_000


class CommandError(Exception):
    """A command was refused; ``str(e)`` is one line naming what is wrong."""


@dataclass(frozen=True)
class Opt:
    """One ``--name`` option. ``arg``: None for a flag, else "str", "int" (a Java Integer), "long" (a Java
    Long), "float" or "optional" (a str that may be left out)."""

    name: str
    arg: str | None = None
    multi: bool = False
    help: str = ""
    metavar: str = ""


@dataclass
class Parsed:
    values: dict[str, object] = field(default_factory=dict)
    positionals: list[str] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return name in self.values

    def get_str(self, name: str) -> str | None:
        v = self.values.get(name)
        return v if isinstance(v, str) else None

    def get_int(self, name: str) -> int | None:
        v = self.values.get(name)
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    def get_float(self, name: str) -> float | None:
        v = self.values.get(name)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    def get_list(self, name: str) -> list[str]:
        v = self.values.get(name)
        return [str(x) for x in v] if isinstance(v, list) else []


#: one token piece of a POSIX shell line: blanks, '...', "...", a backslash escape, or plain characters
_PIECE = re.compile(
    r"""(?P<ws>[ \t\r\n]+)|'(?P<sq>[^']*)'|"(?P<dq>[^"\\]*(?:\\.[^"\\]*)*)"|\\(?P<esc>.)|(?P<word>[^ \t\r\n'"\\]+)"""
    r"""|(?P<bad>.)""",
    re.S,
)
_DQ_ESCAPE = re.compile(r'\\(["\\])')


def split_line(line: str) -> list[str]:
    """Split a console line like a POSIX shell would (quotes, backslashes), as ``shlex.split`` does.

    Linear in the line's length (``shlex`` reads one character at a time: seconds for a 1 MB line).
    """
    tokens: list[str] = []
    cur: list[str] | None = None
    for m in _PIECE.finditer(line):
        kind = m.lastgroup
        if kind == "ws":
            if cur is not None:
                tokens.append("".join(cur))
                cur = None
            continue
        if kind == "bad":
            what = "No escaped character" if m.group() == "\\" else "No closing quotation"
            raise CommandError(f"unbalanced quotes in the command line ({what})")
        if cur is None:
            cur = []
        if kind == "dq":
            cur.append(_DQ_ESCAPE.sub(r"\1", m.group("dq")))
        else:
            cur.append(m.group(kind or "word"))
    if cur is not None:
        tokens.append("".join(cur))
    return tokens


def clip(text: str, limit: int = 40) -> str:
    """``text`` for an error message: at most ``limit`` characters (``12345…`` + how many more)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


_JAVA_INT = (-(2**31), 2**31 - 1)
_JAVA_LONG = (-(2**63), 2**63 - 1)


def parse_int(text: str, what: str, bits: int = 0) -> int:
    """A whole number; with ``bits`` a Java Integer (32) or Long (64): joptsimple refuses what
    ``Integer.valueOf``/``Long.valueOf`` cannot parse (0: any size, the caller checks its own range)."""
    try:
        v = int(text, 10)
    except ValueError:
        raise CommandError(f"Cannot parse argument '{clip(text)}' of option {what}") from None
    if bits == 0:
        return v
    lo, hi = _JAVA_INT if bits == 32 else _JAVA_LONG
    if not lo <= v <= hi:
        raise CommandError(f"Cannot parse argument '{clip(text)}' of option {what}")
    return v


def parse_float(text: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise CommandError(f"Cannot parse argument '{clip(text)}' of option {what}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise CommandError(f"Cannot parse argument '{clip(text)}' of option {what}")
    return v


def _resolve(name: str, opts: dict[str, Opt]) -> Opt:
    if name in opts:
        return opts[name]
    # joptsimple accepts any unambiguous abbreviation of a long option
    matches = [o for n, o in opts.items() if n.startswith(name)]
    if len(matches) == 1 and name:
        return matches[0]
    if len(matches) > 1:
        raise CommandError(
            f"Option {name} is ambiguous (could be: {', '.join('--' + m.name for m in matches)})"
        )
    raise CommandError(f"{clip(name)} is not a recognized option")


def parse_options(tokens: list[str], specs: list[Opt], *, max_positionals: int = 0) -> Parsed:
    """Parse ``--name value`` / ``--name=value`` / ``--flag`` tokens against ``specs``.

    Positional words are allowed up to ``max_positionals``; a negative number (``-3``) counts as a value,
    not as an option.
    """
    opts = {o.name: o for o in specs}
    out = Parsed()
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if tok.startswith("--") and len(tok) > 2:
            body = tok[2:]
            inline: str | None = None
            if "=" in body:
                body, inline = body.split("=", 1)
            opt = _resolve(body, opts)
            if opt.arg == "optional":
                # an option whose argument may be left out (joptsimple's withOptionalArg)
                if inline is None and i < len(tokens) and not tokens[i].startswith("--"):
                    inline = tokens[i]
                    i += 1
                out.values[opt.name] = inline if inline is not None else True
                continue
            if opt.arg is None:
                if inline is not None:
                    raise CommandError(f"Option {opt.name} does not take an argument")
                out.values[opt.name] = True
                continue
            if inline is None:
                if i >= len(tokens) or (tokens[i].startswith("--") and len(tokens[i]) > 2):
                    raise CommandError(f"Option {opt.name} requires an argument")
                inline = tokens[i]
                i += 1
            value: object = inline
            if opt.arg == "int":
                value = parse_int(inline, opt.name, 32)
            elif opt.arg == "long":
                value = parse_int(inline, opt.name, 64)
            elif opt.arg == "float":
                value = parse_float(inline, opt.name)
            if opt.multi:
                lst = out.values.setdefault(opt.name, [])
                assert isinstance(lst, list)
                lst.append(value)
            else:
                if opt.name in out.values:
                    raise CommandError(f"Option {opt.name} was given more than once")
                out.values[opt.name] = value
            continue
        if tok.startswith("-") and len(tok) > 1 and not _is_number(tok):
            raise CommandError(f"{clip(tok.lstrip('-'))} is not a recognized option")
        if len(out.positionals) >= max_positionals:
            raise CommandError(f"unexpected argument '{clip(tok)}'")
        out.positionals.append(tok)
    return out


def _is_number(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


def parse_kv(text: str, what: str) -> tuple[str, str]:
    """``key=value`` (as ``--property`` and ``--producer-property`` take it)."""
    if "=" not in text:
        raise CommandError(f"Invalid {what} '{clip(text)}': expected key=value")
    k, v = text.split("=", 1)
    k = k.strip()
    if not k:
        raise CommandError(f"Invalid {what} '{clip(text)}': expected key=value")
    return k, v.strip()


def split_config_list(text: str) -> list[str]:
    """Split ``a=1,b=[x,y],c=2`` on commas outside square brackets (kafka-configs' --add-config syntax)."""
    parts: list[str] = []
    depth = 0
    cur = ""
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]
