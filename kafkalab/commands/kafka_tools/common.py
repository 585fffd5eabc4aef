"""Helpers shared by the Kafka tool emulations: option checks, client properties, node names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..parsing import CommandError, Parsed, parse_kv

if TYPE_CHECKING:
    from ..session import LabSession


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _is_internal(topic: str) -> bool:
    return topic.startswith("__")


def _opt_name(name: str) -> str:
    return f'"[{name}]"'


def _exactly_one_action(p: Parsed, actions: list[str], message: str) -> str:
    present = [a for a in actions if p.has(a)]
    if len(present) != 1:
        raise CommandError(message)
    return present[0]


def _check_invalid(p: Parsed, allowed: dict[str, tuple[str, ...]], action: str) -> None:
    """Kafka's CommandLineUtils.checkInvalidArgs: an option used with an action it does not belong to."""
    for opt, actions in allowed.items():
        if p.has(opt) and action not in actions:
            raise CommandError(f"Option {_opt_name(opt)} can't be used with option {_opt_name(action)}")


def _client_props(
    pairs: list[str], defaults: dict[str, Any], what: str, extra_known: tuple[str, ...] = ()
) -> tuple[dict[str, Any], list[str]]:
    """Validate ``k=v`` client properties the simulated client understands; unknown ones only warn (as Kafka)."""
    cfg: dict[str, Any] = {}
    warnings: list[str] = []
    for text in pairs:
        k, v = parse_kv(text, what)
        if k in defaults:
            d = defaults[k]
            if isinstance(d, bool):
                if v.lower() not in ("true", "false"):
                    raise CommandError(
                        f"Invalid value {v} for configuration {k}: Expected value to be either true or false"
                    )
                cfg[k] = v.lower() == "true"
                continue
            if isinstance(d, int):
                try:
                    n = int(v)
                except ValueError:
                    raise CommandError(
                        f"Invalid value {v} for configuration {k}: Not a number of type INT"
                    ) from None
                if n < 0:
                    raise CommandError(f"Invalid value {v} for configuration {k}: Value must be at least 0")
                cfg[k] = n
                continue
            cfg[k] = v
        elif k in extra_known:
            cfg[k] = v
        else:
            warnings.append(f"WARN The configuration '{k}' was supplied but isn't a known config.")
    return cfg, warnings


def _check_producer_cfg(cfg: dict[str, Any]) -> None:
    acks = str(cfg.get("acks", "all")).lower()
    if acks not in ("all", "-1", "0", "1"):
        raise CommandError(
            f"Invalid value {cfg['acks']} for configuration acks: String must be one of: all, -1, 0, 1"
        )
    if acks in ("0", "1") and cfg.get("enable.idempotence") is True:
        raise CommandError(
            "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence."
        )
    if (
        cfg.get("enable.idempotence", True) is not False
        and int(cfg.get("max.in.flight.requests.per.connection", 5)) > 5
    ):
        raise CommandError(
            "Must set max.in.flight.requests.per.connection to at most 5 when using the idempotent producer."
        )


def _check_consumer_cfg(cfg: dict[str, Any]) -> None:
    reset = str(cfg.get("auto.offset.reset", "latest")).lower()
    if reset not in ("earliest", "latest", "none"):
        raise CommandError(
            f"Invalid value {cfg['auto.offset.reset']} for configuration auto.offset.reset: "
            "Invalid value for auto.offset.reset: must be one of earliest, latest, none"
        )
    iso = str(cfg.get("isolation.level", "read_uncommitted")).lower()
    if iso not in ("read_committed", "read_uncommitted"):
        raise CommandError(
            f"Invalid value {cfg['isolation.level']} for configuration isolation.level: "
            "String must be one of: read_committed, read_uncommitted"
        )


def _unique_node_name(session: LabSession, prefix: str) -> str:
    cluster = session.cluster
    while True:
        name = cluster.next_client_name(prefix)
        if name not in cluster.net.nodes and name not in session.clients:
            return name


def _java_string_hash(s: str) -> int:
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h


def java_set_order(option_names: list[str]) -> list[str]:
    """The order a ``java.util.HashSet`` of joptsimple options iterates in (how Kafka's tools list them in
    errors): an option hashes as its one-element list of names, ``31 + name.hashCode()``."""
    capacity = 16
    while len(option_names) > capacity * 3 // 4:
        capacity *= 2

    def bucket(name: str) -> int:
        h = (31 + _java_string_hash(name)) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1)

    return sorted(option_names, key=lambda n: (bucket(n), option_names.index(n)))


def java_hashmap_order_by(items: list[Any], hash_of: Callable[[Any], int]) -> list[Any]:
    """Iteration order of a ``java.util.HashMap`` holding ``items`` (in insertion order) whose keys hash
    to ``hash_of(item)`` (a 32-bit Java ``hashCode``)."""
    capacity = 16
    while len(items) > capacity * 3 // 4:
        capacity *= 2

    def bucket(i: int) -> int:
        h = hash_of(items[i]) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1)

    return [items[i] for i in sorted(range(len(items)), key=lambda i: (bucket(i), i))]


def topic_partition_hash(tp: tuple[str, int]) -> int:
    """``org.apache.kafka.common.TopicPartition.hashCode``."""
    return (31 * (31 + tp[1]) + _java_string_hash(tp[0])) & 0xFFFFFFFF


def tool_admin(session: LabSession, client_id: str) -> Any:
    """An AdminClient for one tool invocation (close it with ``admin.closed = True`` when done)."""
    return session.cluster.admin({"client.id": client_id})


def read_json_arg(session: LabSession, value: str, option: str) -> str:
    """A ``--...-json-file`` value: the JSON itself (it starts with '{') or a file; a relative path is in the
    lab's files directory, where ``echo ... > FILE`` writes."""
    text = value.strip()
    if text.startswith("{"):
        return text
    path = Path(value)
    if not path.is_absolute():
        path = Path(session.cluster.data_dir) / "files" / path
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise CommandError(
            f'Exception in thread "main" java.nio.file.NoSuchFileException: {value} ({e.strerror}; the lab\'s '
            f"--{option} also takes the JSON itself: --{option} '{{...}}')"
        ) from None
