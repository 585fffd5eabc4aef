"""A seeded soak of the console: hundreds of random, mostly valid commands never hit an internal error.

Each command either works or fails with a clear message; after every command the replication invariants
hold; a replay of the whole action log reaches the same state. ``KAFKALAB_SOAK_SEEDS=40`` runs more. Catches code paths the scenario tests miss
(also under the mypyc build, where a wrong annotation raises TypeError).
"""

from __future__ import annotations

import os
import random

import pytest

from kafkalab.commands import LabSession, execute
from kafkalab.sim.kernel import TraceEvent

TOPICS = ["a", "b", "c"]
_CHECK = TraceEvent(0, 0, "-", "soak-check", "")


def _command(rng: random.Random, n: int) -> str:
    t = rng.choice(TOPICS)
    b = rng.randint(1, 4)  # broker 4 does not exist: a clean error
    acks = rng.choice(["0", "1", "all"])
    name = f"c{rng.randint(1, 3)}"
    group = f"g{rng.randint(1, 2)}"
    choices = [
        f"kafka-topics --create --topic {t} --partitions {rng.randint(1, 4)} --replication-factor "
        f"{rng.randint(1, 3)} --config min.insync.replicas={rng.randint(1, 3)}",
        f"kafka-topics --describe --topic {t}",
        "kafka-topics --describe --under-replicated-partitions",
        "kafka-topics --list",
        f"kafka-topics --delete --topic {t}",
        f"kafka-configs --alter --topic {t} --add-config retention.ms={rng.randint(1000, 100000)}",
        f"kafka-configs --describe --topic {t} --all",
        f"produce {t} v{n} --count {rng.randint(1, 20)} --acks {acks} --key k{rng.randint(0, 3)}",
        f"start-producer p{n % 3} --topic {t} --rate {rng.choice([1, 5, 50])} --acks {acks}",
        f"start-consumer {name} --topic {t} --group {group} --from-beginning",
        f"kafka-console-consumer --topic {t} --from-beginning --max-messages {rng.randint(1, 5)}",
        f"kafka-consumer-groups --describe --group {group}",
        "kafka-consumer-groups --list",
        f"kafka-consumer-groups --reset-offsets --group {group} --all-topics --to-earliest --execute",
        f"stop {rng.choice([name, f'p{n % 3}'])}",
        f"crash-consumer {name}",
        f"kill-broker {b}",
        f"restart-broker {b}",
        f"pause-broker {b}",
        f"resume-broker {b}",
        "kill-controller",
        f"restart-controller {3000 + rng.randint(0, 2)}",
        f"partition {b} {1 + b % 3}",
        "heal",
        f"run {rng.choice(['200', '1s', '5s', '15s'])}",
        f"step {rng.randint(1, 50)}",
        "status",
        f"rewind {rng.randint(1, 30)}",
        f"rewind --to {rng.randint(0, 20)}s",
        f"kafka-consumer-groups --describe --group {group} --members",
        f"kafka-consumer-groups --describe --group {group} --state",
        f"kafka-consumer-groups --reset-offsets --group {group} --topic {t} --to-offset {rng.randint(0, 30)} "
        "--execute",
        f"kafka-consumer-groups --reset-offsets --group {group} --topic {t}:0 --shift-by {rng.randint(-5, 5)} "
        "--dry-run",
        f"kafka-console-consumer --topic {t} --partition {rng.randint(0, 3)} --offset earliest "
        f"--max-messages {rng.randint(1, 3)} --property print.key=true",
        f"kafka-console-consumer --topic {t} --group {group} --max-messages 2 --isolation-level read_committed",
        f"start-consumer {name} --topic {t}",
        f"start-producer p{n % 3} --topic {t} --key-count {rng.randint(1, 5)} --linger-ms {rng.randint(0, 50)}",
        f"kafka-configs --alter --topic {t} --add-config cleanup.policy=compact,segment.bytes=1024",
        f"kafka-configs --alter --topic {t} --delete-config retention.ms",
        f"kafka-configs --alter --topic {t} --add-config min.insync.replicas={rng.randint(1, 4)}",
        f"produce {t} x{n} --partition {rng.randint(0, 4)} --acks {acks}",
        f"speed {rng.choice(['0.5', '10', '1000'])}",
        "kafka-topics --describe --unavailable-partitions",
        f"partition {b}",
        f"produce {t}",  # missing value: a usage error
        f"kafka-topics --create --topic {t} --partitions zero",  # malformed
    ]
    return rng.choice(choices)


@pytest.mark.parametrize("seed", range(int(os.environ.get("KAFKALAB_SOAK_SEEDS", "6"))))
def test_random_console_sessions_never_hit_an_internal_error(seed: int) -> None:
    rng = random.Random(seed)
    # with auto-creation most commands find their topic, and the sessions run far longer in virtual time;
    # the default seeds keep it to one session (test_auto_create / test_console_fidelity cover it)
    auto = seed % 6 == 4
    s = LabSession(brokers=3, seed=seed, controllers=3, broker_config={"auto.create.topics.enable": auto})
    for n in range(120):
        line = _command(rng, n)
        r = execute(s, line)
        assert "internal error" not in (r.error or ""), (line, r.error)
        assert r.ok or r.error, line  # a failure always says why
        s.cluster._check_invariants(_CHECK)  # HW <= LEO, one leader per epoch, leader HW never goes back
        if s.divergence is not None:
            pytest.fail(f"after {line!r}: {s.divergence}")
    position, trace = s.position(), s.cluster.trace_hash()
    s.replay()
    assert s.divergence is None
    assert (s.position(), s.cluster.trace_hash()) == (position, trace)
    s.close()
