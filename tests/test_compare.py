"""Comparing delivery guarantees: one seeded fault schedule, several setups, numbers from the checker.

Each ``run_comparison`` below builds one cluster per setup (same seed, same schedule) and runs the pipeline
source → in → Copier → out → sink. Runs are shared per module to keep the file fast.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from functools import cache

import pytest

from kafkalab.cli import main
from kafkalab.compare import (
    BUILTIN_SCHEDULES,
    ComparisonResult,
    Setup,
    _reordered_keys,
    parse_setup,
    run_comparison,
)

SEED = 7
N = 60
CONSUMER_SIDE = ["at-most-once", "at-least-once", "exactly-once"]
PRODUCER_SIDE = ["exactly-once", "acks=0", "acks=1", "no-idem"]


@cache
def compare(faults: str, setups: tuple[str, ...]) -> ComparisonResult:
    return run_comparison(SEED, faults, list(setups), N)


def test_every_builtin_schedule_is_a_distinct_list_of_faults() -> None:
    assert {"leader-kill", "consumer-crash", "lost-ack", "partition", "mixed"} <= set(BUILTIN_SCHEDULES)
    assert all(s.steps for name, s in BUILTIN_SCHEDULES.items() if name != "none")


@pytest.mark.parametrize("faults", ["consumer-crash", "mixed"])
def test_the_three_consumer_guarantees_differ_when_the_copier_crashes(faults: str) -> None:
    r = compare(faults, tuple(CONSUMER_SIDE))
    amo, alo, eos = (r.scoreboard(s) for s in CONSUMER_SIDE)
    assert amo.lost >= 1 and amo.duplicated == 0
    assert alo.lost == 0 and alo.duplicated >= 1
    assert eos.lost == 0 and eos.duplicated == 0
    # every source record was acknowledged (acks=all + idempotence): the losses are the copier's doing
    assert amo.checker_lost_in == alo.checker_lost_in == eos.checker_lost_in == 0
    assert amo.copier_restarts >= 1 and eos.copier_restarts >= 1


@pytest.mark.parametrize("faults", ["leader-kill", "lost-ack", "partition"])
def test_broker_faults_never_break_the_safe_producer_setups(faults: str) -> None:
    """acks=all + idempotence in front: at-least-once loses nothing, exactly-once is exact, at-most-once
    never duplicates (it may still lose a batch when its commit-before-processing fails)."""
    r = compare(faults, tuple(CONSUMER_SIDE))
    amo, alo, eos = (r.scoreboard(s) for s in CONSUMER_SIDE)
    assert amo.duplicated == 0
    assert alo.lost == 0
    assert (eos.lost, eos.duplicated, eos.delivered) == (0, 0, N)


def test_acks_0_and_1_lose_records_when_the_leader_dies_and_acks_all_with_idempotence_does_not() -> None:
    r = compare("leader-kill", tuple(PRODUCER_SIDE))
    safe, a0, a1 = r.scoreboard("exactly-once"), r.scoreboard("acks=0"), r.scoreboard("acks=1")
    assert a0.lost >= 1 and a1.lost >= 1
    assert a1.checker_lost_in >= 1  # the checker saw acknowledged writes vanish from topic in
    assert a1.acknowledged == N  # ... all of them had been acknowledged
    assert safe.lost == 0 and safe.checker_lost_in == 0 and safe.duplicated == 0


def test_a_lost_ack_duplicates_records_without_idempotence_and_not_with_it() -> None:
    r = compare("lost-ack", tuple(PRODUCER_SIDE))
    no_idem, idem = r.scoreboard("no-idem"), r.scoreboard("exactly-once")
    assert no_idem.duplicated >= 1 and no_idem.checker_duplicates_in >= 1 and no_idem.lost == 0
    assert idem.duplicated == 0 and idem.checker_duplicates_in == 0 and idem.lost == 0


def test_no_faults_means_every_setup_delivers_everything_once() -> None:
    r = run_comparison(SEED, "none", ["at-most-once", "acks=0", "no-idem"], 30)
    for sb in r.scoreboards():
        assert (sb.produced, sb.delivered, sb.lost, sb.duplicated, sb.reordered_keys) == (30, 30, 0, 0, 0), sb
    assert all(f.outcome == "delivered" and f.cause is None for f in r.ledger("acks=0"))


@pytest.mark.parametrize(
    ("faults", "setups"),
    [
        ("mixed", tuple(CONSUMER_SIDE)),
        ("leader-kill", tuple(PRODUCER_SIDE)),
        ("lost-ack", tuple(PRODUCER_SIDE)),
        ("partition", tuple(PRODUCER_SIDE)),
    ],
)
def test_every_lost_or_duplicated_record_names_a_real_timeline_event(
    faults: str, setups: tuple[str, ...]
) -> None:
    r = compare(faults, setups)
    checked = 0
    for name in setups:
        sb = r.scoreboard(name)
        fates = r.ledger(name)
        assert len(fates) == N
        assert sum(f.outcome == "lost" for f in fates) == sb.lost
        assert sum(f.outcome == "duplicated" for f in fates) == sb.duplicated
        timeline = {(e.time_ms, e.text) for e in r.timeline(name)}
        for f in fates:
            if f.outcome == "delivered":
                assert f.copies == 1 and f.verdict == "delivered once"
                continue
            checked += 1
            assert f.cause is not None, f
            assert (f.cause.time_ms, f.cause.event) in timeline, f
            assert f.verdict.startswith(f"{f.outcome} because "), f.verdict
            assert f"{f.cause.time_ms} ms" in f.verdict, f.verdict
            assert f.journey and f.journey[0].what.startswith("produced by source")
    assert checked > 0


def test_verdicts_name_the_mechanism() -> None:
    kill = compare("leader-kill", tuple(PRODUCER_SIDE))
    lost = [f for f in kill.ledger("acks=1") if f.outcome == "lost"]
    assert lost and all("died at" in f.verdict and "truncated it" in f.verdict for f in lost)
    assert all(f.cause is not None and f.cause.event.endswith("died") for f in lost)
    crash = compare("consumer-crash", tuple(CONSUMER_SIDE))
    dup = [f for f in crash.ledger("at-least-once") if f.outcome == "duplicated"]
    assert dup and all("copier crashed" in f.verdict and "reprocessed by" in f.verdict for f in dup)
    amo = [f for f in crash.ledger("at-most-once") if f.outcome == "lost"]
    assert amo and all("before processing" in f.verdict for f in amo)
    ack = compare("lost-ack", tuple(PRODUCER_SIDE))
    dup = [f for f in ack.ledger("no-idem") if f.outcome == "duplicated"]
    assert dup and all("acknowledgement" in f.verdict and "without idempotence" in f.verdict for f in dup)


def test_same_seed_same_result() -> None:
    a = run_comparison(SEED, "consumer-crash", ["at-least-once", "acks=1"], 40).to_json(ledger=True)
    b = run_comparison(SEED, "consumer-crash", ["at-least-once", "acks=1"], 40).to_json(ledger=True)
    assert a == b
    assert json.loads(a)["setups"][0]["scoreboard"]["duplicated"] >= 1


def test_reordering_per_key_is_measured_from_the_sink() -> None:
    Sink = dict[int, list[tuple[int, bytes | None, bytes | None]]]
    in_order: Sink = {0: [(0, b"k0", b"out-0"), (1, b"k1", b"out-1"), (2, b"k0", b"out-10")]}
    swapped: Sink = {0: [(0, b"k0", b"out-10"), (1, b"k1", b"out-1"), (2, b"k0", b"out-0")]}
    redelivered: Sink = {0: [(0, b"k0", b"out-0"), (1, b"k0", b"out-10"), (2, b"k0", b"out-0")]}
    assert _reordered_keys(in_order, 11) == []
    assert _reordered_keys(swapped, 11) == ["k0"]
    assert _reordered_keys(redelivered, 11) == []  # a later duplicate is a duplicate, not a reordering


def test_setup_specs() -> None:
    assert parse_setup("acks=1") == Setup("acks=1", "exactly_once", "1", False)
    assert parse_setup("alo/1") == Setup("alo/1", "at_least_once", "1", False)
    assert parse_setup("eos/all/no-idem").idempotence is False
    assert parse_setup("amo/all").idempotence is True
    assert parse_setup("eos").name == "exactly-once"
    for bad in ("nope", "alo/2", "alo/1/idem", "eos/all/maybe"):
        with pytest.raises(ValueError):
            parse_setup(bad)


def run_cli(*argv: str) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(list(argv))
    return code, buf.getvalue()


def test_cli_lists_faults_prints_json_and_a_table_that_fits_100_columns() -> None:
    code, out = run_cli("compare", "--list-faults")
    assert code == 0 and all(name in out for name in BUILTIN_SCHEDULES)
    code, out = run_cli(
        "compare",
        "--seed",
        "3",
        "--faults",
        "consumer-crash",
        "--setups",
        "amo,eos",
        "--records",
        "30",
        "--json",
    )
    data = json.loads(out)
    assert code == 0 and [s["name"] for s in data["setups"]] == ["at-most-once", "exactly-once"]
    assert data["setups"][0]["scoreboard"]["lost"] == len(data["setups"][0]["problems"])
    code, out = run_cli(
        "compare",
        "--faults",
        "consumer-crash",
        "--setups",
        "at-most-once",
        "--records",
        "30",
        "--width",
        "100",
    )
    assert code == 0 and "at-most-once" in out and "lost because" in out
    assert max(len(line) for line in out.splitlines()) <= 100
    code, _ = run_cli("compare", "--faults", "no-such-schedule")
    assert code == 2
