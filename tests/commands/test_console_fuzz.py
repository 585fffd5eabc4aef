"""Fuzz of the console: random and mutated command lines never hit an internal error, and big inputs are
refused quickly with one line naming the limit.

The corpus is every command's usage plus typical lines; each fuzzed line is one of them mutated (a token
replaced by a hostile value: 400-digit numbers, NaN, control characters, unbalanced quotes, 5,000-character
words…, tokens dropped, duplicated, cut or spliced) or plain random text. ``KAFKALAB_FUZZ_SEEDS=20
KAFKALAB_FUZZ_LINES=2000`` runs more.
"""

from __future__ import annotations

import os
import random
import shlex
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.commands import LabSession, command_names, execute, lab, usage
from kafkalab.commands.lab import MAX_RUN_EVENTS
from kafkalab.commands.parsing import MAX_LINE_CHARS, CommandError, split_line

CORPUS = [
    "kafka-topics --create --topic t --partitions 3 --replication-factor 3 --config min.insync.replicas=2",
    "kafka-topics --describe --topic t",
    "kafka-topics --alter --topic t --partitions 4",
    "kafka-topics --delete --topic t",
    "kafka-topics --list",
    "kafka-configs --alter --topic t --add-config retention.ms=1000,cleanup.policy=[compact,delete]",
    "kafka-configs --describe --entity-type topics --entity-name t --all",
    "kafka-console-consumer --topic t --from-beginning --max-messages 3 --property print.key=true",
    "kafka-console-consumer --topic t --partition 0 --offset 2 --max-messages 1",
    "kafka-consumer-groups --describe --group g --members",
    "kafka-consumer-groups --reset-offsets --group g --topic t:0,1 --shift-by -2 --execute",
    "kafka-consumer-groups --reset-offsets --group g --all-topics --by-duration PT10M --dry-run",
    "produce t hello --key k --acks all --count 3 --partition 1",
    "start-producer p --topic t --rate 50 --acks 1 --idempotence false --linger-ms 5 --key-count 3",
    "start-consumer c --topic t --group g --from-beginning",
    "crash-consumer c",
    "stop p",
    "kill-broker 1",
    "restart-broker 1",
    "pause-broker 2",
    "resume-broker 2",
    "kill-controller 3000",
    "restart-controller 3000",
    "partition 1,2 3",
    "heal",
    "speed 2.5",
    "step 3",
    "run 500ms",
    "rewind 5",
    "rewind --to 1s",
    "status",
    "help kafka-topics",
]

HOSTILE = [
    "9" * 400,
    "-" + "9" * 30,
    "9" * 5000,
    "1e400",
    "-1e400",
    "nan",
    "inf",
    "-0",
    "0x1f",
    "1_000",
    "２",  # a full-width digit
    "",
    '"',
    "'",
    "\\",
    "--",
    "-",
    "=",
    ",,,",
    "a=b=c",
    "[",
    "]",
    "x" * 5000,
    "☃💥\u200b",
    "\x00\x07\x1b[2J",
    "t:99999999999999999999",
    "t:-1",
    "PT99999999999999999999999S",
    "P-1D",
    "%s%n",
    "$(reboot)",
    "--topic=",
    "--partitions=-1",
    "--config",
    "min.insync.replicas=999999999999999999999999",
    "retention.ms=-99999999999999999999",
    "9999999999999999999ms",
    "59m",
]


def _mutate(rng: random.Random, line: str) -> str:
    tokens = line.split(" ")
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(6)
        i = rng.randrange(len(tokens))
        if op == 0:
            tokens[i] = rng.choice(HOSTILE)
        elif op == 1 and len(tokens) > 1:
            del tokens[i]
        elif op == 2:
            tokens.insert(i, tokens[i])
        elif op == 3:
            tokens[i] = tokens[i][: rng.randrange(len(tokens[i]) + 1)]
        elif op == 4:
            tokens.insert(i, rng.choice(HOSTILE))
        else:
            other = rng.choice(CORPUS).split(" ")
            tokens = tokens[:i] + other[rng.randrange(len(other)) :]
    return " ".join(tokens)


def _random_text(rng: random.Random) -> str:
    alphabet = "abc -=,:'\"\\019\t☃\x00"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))


def _fuzz(seed: int, lines: int) -> None:
    rng = random.Random(seed)
    s = LabSession(brokers=3, seed=seed)
    for line in CORPUS[:1] + ["start-consumer c --topic t --group g", "produce t v --count 5"]:
        assert execute(s, line).ok, line
    corpus = CORPUS + [usage(n) or n for n in command_names()]
    for n in range(lines):
        line = _random_text(rng) if n % 10 == 0 else _mutate(rng, rng.choice(corpus))
        if line.split(" ")[:1] == ["run"]:  # a fuzzed run may legitimately take a busy second; keep it short
            line = "run 200"
        r = execute(s, line)
        error = r.error or ""
        assert "internal error" not in error, (line, error)
        assert r.ok or error, line  # a failure always says why
        assert "\n" not in error and len(error) <= 500, (line, error)  # one line
        if s.input_mode is not None:  # a console producer reading lines: end it, as ctrl+d would
            assert execute(s, ".exit").ok and s.input_mode is None  # end of input (an empty line is a record)
    s.close()


def test_mutated_and_random_console_lines_never_hit_an_internal_error() -> None:
    lines = int(os.environ.get("KAFKALAB_FUZZ_LINES", "250"))
    for seed in range(int(os.environ.get("KAFKALAB_FUZZ_SEEDS", "1"))):
        _fuzz(seed + 1, lines)


def test_huge_inputs_are_refused_quickly_with_one_line_naming_the_limit() -> None:
    s = LabSession(brokers=3, seed=1)
    assert execute(s, "kafka-topics --create --topic t --partitions 1 --replication-factor 3").ok
    big = "9" * 400
    cases = {
        f"run {big}": "run takes a duration between 1 ms and 1 h",
        f"run {big}s": "run takes a duration between 1 ms and 1 h",
        f"rewind --to {big}": "rewind --to must be a time like",
        "step 1000000": "step takes a number of events between 1 and 10000",
        f"seed {big}": "seed must be between 0 and 2^63-1",
        "kafka-topics --list " + "x" * 1_000_000: f"at most {MAX_LINE_CHARS:,} characters",
        "produce t " + "x" * 2_000_000: f"at most {MAX_LINE_CHARS:,} characters",
        f"kill-broker {big}": "there is no broker 9999",
        f"speed {big}": "Cannot parse argument",
    }
    for line, expected in cases.items():
        start = time.perf_counter()
        r = execute(s, line)
        elapsed = time.perf_counter() - start
        assert not r.ok and expected in (r.error or ""), (line[:60], r.error)
        assert len(r.error or "") <= 500 and "\n" not in (r.error or "")
        # generous (shared CI machines); before the bounds these took 14 s to 120 s or raised OverflowError
        assert elapsed < 2.0, (line[:60], elapsed)
    # the console producer's lines have the same bound
    assert execute(s, "kafka-console-producer --topic t").ok
    r = execute(s, "x" * (MAX_LINE_CHARS + 1))
    assert not r.ok and "at most" in (r.error or "")
    assert execute(s, "y" * 1000).ok  # a normal record still goes through
    assert execute(s, ".exit").ok and s.input_mode is None  # end of input (an empty line is a record)
    s.close()


def test_a_long_run_stops_at_the_event_limit_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    limit = 5_000  # the real limit (MAX_RUN_EVENTS) takes seconds to reach; the mechanism is the same
    monkeypatch.setattr(lab, "MAX_RUN_EVENTS", limit)
    s = LabSession(brokers=3, seed=3)
    for line in (
        "kafka-topics --create --topic t --partitions 6 --replication-factor 3",
        "start-producer p --topic t --rate 10000",
    ):
        assert execute(s, line).ok
    first = s.events
    r = execute(s, "run 1h")
    assert r.ok
    assert "one run command runs at most" in r.lines[0], r.lines
    assert f"at most {limit:,} events" in r.lines[0]
    assert limit <= s.events - first < limit + 2_000  # it stops within one slice of virtual time
    assert MAX_RUN_EVENTS >= 50_000  # and the real limit still lets a busy minute run in one go
    assert s.now_ms < 3_600_000
    s.close()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab '\"\\\t\n#é=", max_size=40))
def test_split_line_splits_as_a_posix_shell_does(line: str) -> None:
    try:
        expected: list[str] | None = shlex.split(line)
    except ValueError:
        expected = None
    try:
        got: list[str] | None = split_line(line)
    except CommandError:
        got = None
    assert got == expected
