"""Corrupt checkpoint files and broken swap files: a restarted broker logs what it found, rebuilds, and keeps
every record (issue 11, points 8 and 9). Kafka's recovery rebuilds the leader epoch cache from the batches,
recomputes high watermarks from the leaders, and deletes incomplete swap files."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from kafkalab import Cluster

RECORDS = 200
TOPIC_DIR = "t-0"


def _single_broker_cluster(tmp_path: Path) -> Cluster:
    """One broker, replication factor 1: the restarted broker's own files are the only copy."""
    c = Cluster(1, seed=3, data_dir=tmp_path)
    c.create_topic("t", 1, 1)
    p = c.producer({"acks": "all"})
    for i in range(RECORDS):
        p.produce("t", key=f"k{i % 7}", value=f"v-{i}")
    p.flush()
    c.kill_broker(1)  # a leader change on restart writes a second leader epoch entry
    c.restart_broker(1)
    c.run_for(5000)
    p = c.producer({"acks": "all"})
    p.produce("t", key=b"k", value=b"after-restart")
    p.flush()
    c.run_for(6000)  # the high watermark checkpoint is written
    return c


def _values(c: Cluster) -> list[bytes | None]:
    return [v for _o, _k, v in c.read_all("t")[0]]


GARBAGE: dict[str, Callable[[bytes], bytes]] = {
    "garbage text": lambda _b: b"this is not a checkpoint\nat all\n",
    "not utf-8": lambda _b: b"\xff\xfe\x00\x81garbage\x9f",
    "truncated": lambda b: b[: max(1, len(b) // 2)],
    "empty": lambda _b: b"",
    "negative numbers": lambda _b: b"0\n1\n-3 -7\n",
}


@pytest.mark.parametrize("how", sorted(GARBAGE))
@pytest.mark.parametrize(
    "name", ["leader-epoch-checkpoint", "log-start-offset-checkpoint", "replication-offset-checkpoint"]
)
def test_a_corrupt_checkpoint_is_logged_and_rebuilt_and_no_record_is_lost(
    tmp_path: Path, name: str, how: str
) -> None:
    c = _single_broker_cluster(tmp_path)
    epochs_before = c.brokers[1].partitions[("t", 0)].log.epoch_entries()
    c.kill_broker(1)
    where = (
        tmp_path / "broker-1" / (name if name == "replication-offset-checkpoint" else f"{TOPIC_DIR}/{name}")
    )
    original = where.read_bytes() if where.exists() else b"0\n0\n"
    where.write_bytes(GARBAGE[how](original))
    c.restart_broker(1)
    c.run_for(5000)  # before the fix: ValueError out of run_for, and a broker that never hosts t-0
    assert ("t", 0) in c.brokers[1].partitions and c.describe_topic("t")[0].leader == 1
    values = _values(c)
    assert len(values) == RECORDS + 1 and values[-1] == b"after-restart"
    notes = [e.text for e in c.timeline if name in e.text]
    assert notes and any(word in notes[-1] for word in ("corrupt", "malformed", "cannot read"))
    if name == "leader-epoch-checkpoint":
        # rebuilt from the batches' partitionLeaderEpoch (plus the epoch of this restart)
        rebuilt = c.brokers[1].partitions[("t", 0)].log.epoch_entries()
        assert rebuilt[: len(epochs_before)] == epochs_before
    c.close()


def test_a_corrupt_cleaner_checkpoint_is_ignored(tmp_path: Path) -> None:
    c = Cluster(1, seed=4, data_dir=tmp_path)
    c.create_topic("t", 1, 1, {"cleanup.policy": "compact"})
    c.kill_broker(1)
    (tmp_path / "broker-1" / TOPIC_DIR / "cleaner-offset-checkpoint").write_bytes(b"\x00\xffnope")
    c.restart_broker(1)
    c.run_for(3000)
    assert ("t", 0) in c.brokers[1].partitions
    assert not (tmp_path / "broker-1" / TOPIC_DIR / "cleaner-offset-checkpoint").exists()
    c.close()


@pytest.mark.parametrize("base", [0, 150])
@pytest.mark.parametrize("what", ["garbage", "empty", "a valid prefix then garbage"])
def test_a_broken_swap_file_is_deleted_and_the_partition_keeps_its_records(
    tmp_path: Path, base: int, what: str
) -> None:
    c = _single_broker_cluster(tmp_path)
    c.kill_broker(1)
    segment = (tmp_path / "broker-1" / TOPIC_DIR / "00000000000000000000.log").read_bytes()
    content = {
        "garbage": b"\x13\x37" * 500,
        "empty": b"",
        "a valid prefix then garbage": segment[:300] + b"\x00\x01" * 40,
    }
    swap = tmp_path / "broker-1" / TOPIC_DIR / f"{base:020d}.log.swap"
    swap.write_bytes(content[what])
    c.restart_broker(1)
    c.run_for(5000)
    values = _values(c)  # before the fix: the garbage replaced the segment, 0 of 200 records left
    assert len(values) == RECORDS + 1
    assert not swap.exists()
    assert any("swap" in e.text and "deleted" in e.text for e in c.timeline)
    c.close()


@pytest.mark.parametrize("seed", range(12))
def test_random_damage_to_a_stopped_broker_never_raises_and_keeps_a_prefix_of_the_log(
    tmp_path: Path, seed: int
) -> None:
    """Bit flips, truncations and garbage in any file of the broker, plus stray swap/cleaned files: the
    restart never raises, the broker hosts the partition again, and what is left is a prefix of the log."""
    rng = random.Random(seed)
    c = Cluster(1, seed=seed, data_dir=tmp_path)
    c.create_topic("t", 1, 1, {"segment.bytes": 2000})
    p = c.producer({"acks": "all"})
    for i in range(RECORDS):
        p.produce("t", key=f"k{i % 7}", value=f"v-{i}")
    p.flush()
    c.run_for(6000)
    c.kill_broker(1)
    files = sorted(f for f in (tmp_path / "broker-1").rglob("*") if f.is_file())
    strays = [
        "00000000000000000000.log.swap",
        "00000000000000000100.index.swap",
        "00000000000000000005.log.cleaned",
    ]
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.3:
            f = tmp_path / "broker-1" / TOPIC_DIR / rng.choice(strays)
            f.write_bytes(rng.randbytes(rng.randint(0, 300)))
            continue
        f = rng.choice(files)
        data = bytearray(f.read_bytes())
        roll = rng.random()
        if roll < 0.3 and data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif roll < 0.6:
            del data[rng.randint(0, len(data)) :]
        else:
            data = bytearray(rng.randbytes(rng.randint(0, 100)))
        f.write_bytes(bytes(data))
    c.restart_broker(1)
    c.run_for(5000)
    assert ("t", 0) in c.brokers[1].partitions
    values = _values(c)
    assert values == [f"v-{i}".encode() for i in range(len(values))]
    c.close()
