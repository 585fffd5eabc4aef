"""The kernel: ordering, virtual time, and identical traces for identical (seed, actions)."""

from kafkalab.sim.cluster import Cluster
from kafkalab.sim.faults import random_schedule, run_produce_workload
from kafkalab.sim.kernel import Kernel, Node


def test_events_run_in_time_then_schedule_order() -> None:
    k = Kernel(seed=1)
    seen: list[str] = []
    k.schedule(5, "x", lambda: seen.append("b"))
    k.schedule(1, "x", lambda: seen.append("a"))
    k.schedule(5, "x", lambda: seen.append("c"))
    k.run_for(10)
    assert seen == ["a", "b", "c"]
    assert k.now_ms == 10


def test_killed_node_events_are_dropped_and_paused_ones_deferred() -> None:
    k = Kernel(seed=1)
    n = Node(k, "n")
    seen: list[int] = []
    n.schedule(1, "x", lambda: seen.append(1))
    n.crash()
    n.start()
    n.schedule(2, "x", lambda: seen.append(2))
    n.pause()
    k.run_for(10)
    assert seen == []
    n.resume()
    k.run_for(1)
    assert seen == [2]


def test_run_until_stops_at_predicate_or_timeout() -> None:
    k = Kernel(seed=1)
    box = [0]
    k.schedule(30, "x", lambda: box.__setitem__(0, 1))
    assert k.run_until(lambda: box[0] == 1, 100)
    assert k.now_ms == 30
    assert not k.run_until(lambda: False, 50)
    assert k.now_ms == 80


def _run(seed: int) -> str:
    c = Cluster(brokers=3, seed=seed)
    c.create_topic("t", partitions=2, replication_factor=3, config={"min.insync.replicas": 2})
    run_produce_workload(
        c,
        "t",
        random_schedule(seed, 3, 10_000),
        {"acks": "all"},
        records=60,
        duration_ms=10_000,
        settle_ms=5_000,
    )
    h = c.trace_hash()
    c.close()
    return h


def test_same_seed_and_actions_give_identical_traces_over_20_reruns() -> None:
    hashes = {_run(7) for _ in range(20)}
    assert len(hashes) == 1


def test_different_seeds_give_different_traces() -> None:
    assert _run(7) != _run(8)


def test_a_cancelled_timer_lets_go_of_its_callback() -> None:
    import weakref

    k = Kernel(seed=1)

    class Callback:
        def __call__(self) -> None:
            raise AssertionError("a cancelled timer must not run")

    cb = Callback()
    ref = weakref.ref(cb)
    t = k.schedule(30_000, "request-timeout", cb)
    del cb
    assert ref() is not None  # held by the pending timer
    t.cancel()
    assert ref() is None  # freed at once, though the timer stays in the heap until its time
    k.run_for(60_000)
