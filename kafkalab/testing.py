"""Kafka for integration tests without a JVM or Docker: the ``kafka_cluster`` pytest fixture.

>>> def test_roundtrip(kafka_cluster):
...     from confluent_kafka import Producer
...     p = Producer({"bootstrap.servers": kafka_cluster.bootstrap_servers})
...     p.produce("events", b"hello"); p.flush()
...     kafka_cluster.kill_broker(kafka_cluster.leader_of("events", 0))

The cluster is a kafkalab lab cluster (deterministic simulation, 1× real time while clients are connected)
whose brokers listen on free ports of 127.0.0.1. It runs in a thread of its own; every method here hands its
work to that thread and waits for it, so a test may call them from anywhere (not from inside the cluster's
own loop). Faults are the lab's: ``kill_broker``, ``restart_broker``, ``pause_broker``, ``resume_broker``,
``partition``, ``heal``; each is recorded in the run like a console command.

To use the fixture, name this module as a plugin in the top-level ``conftest.py`` of your tests::

    pytest_plugins = ["kafkalab.testing"]
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .commands.session import LabSession
    from .sim.cluster import Cluster, GroupDescription, PartitionInfo

__all__ = ["KafkaCluster", "kafka_cluster"]

T = TypeVar("T")


class KafkaCluster:
    """A lab cluster with Kafka listeners, run in a background thread (use as a context manager)."""

    def __init__(
        self,
        brokers: int = 3,
        seed: int = 0,
        *,
        broker_config: dict[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.brokers = brokers
        self.seed = seed
        self.broker_config = dict(broker_config or {})
        self.host = host
        self.port = port
        self.ports: dict[int, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._session: LabSession | None = None
        self._driver: Any = None
        self._server: Any = None
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> KafkaCluster:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._thread_main, name="kafkalab-cluster", daemon=True)
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise RuntimeError(f"the kafkalab cluster did not start: {self._error}") from self._error
        if not self._ready.is_set():
            raise RuntimeError("the kafkalab cluster did not start within 60 s")
        return self

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as e:  # reported to start() or close()
            self._error = e
            self._ready.set()

    async def _main(self) -> None:
        from .commands.session import LabSession
        from .wire.driver import LiveDriver
        from .wire.server import WireServer

        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        session = LabSession(brokers=self.brokers, seed=self.seed, broker_config=self.broker_config)
        # nobody rewinds here: no time-travel checkpoints (they would pause the clients while the run is captured)
        session.travel.enabled = False
        driver = LiveDriver(session, always_live=True)
        server = WireServer(driver, host=self.host, port=self.port)
        self._session, self._driver, self._server = session, driver, server
        try:
            await server.start()
            self.ports = dict(server.ports)
            task = self._loop.create_task(driver.run())
            self._ready.set()
            await self._stopped.wait()
            driver.stop()
            await task
        finally:
            await server.stop()
            session.close()

    def close(self) -> None:
        """Stop the listeners and remove the cluster's data."""
        loop, stopped, thread = self._loop, self._stopped, self._thread
        if loop is None or stopped is None or thread is None:
            return
        if not loop.is_closed():
            loop.call_soon_threadsafe(stopped.set)
        thread.join(30)
        self._thread = None

    def __enter__(self) -> KafkaCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running work in the cluster's thread --------------------------------------------------------------
    def call(self, fn: Callable[[LabSession], T], timeout: float = 60.0) -> T:
        """Run ``fn(session)`` in the cluster's thread, between two simulation events, and return its result.

        ``fn`` should only look: what changes the cluster goes through :meth:`command` (recorded, so the run
        stays replayable and rewindable)."""
        loop, driver = self._loop, self._driver
        if loop is None or driver is None:
            raise RuntimeError("the cluster is not running (call start() or use the fixture)")
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                driver.flush()
                fut.set_result(fn(driver.session))
            except BaseException as e:
                fut.set_exception(e)
            finally:
                driver.wake()

        loop.call_soon_threadsafe(run)
        return fut.result(timeout)

    def command(self, line: str) -> list[str]:
        """Run a lab console command (``kill-broker 2``, ``kafka-topics --describe``, ...); its output lines.

        Raises ``RuntimeError`` with the console's error text when the command fails."""
        from .commands import execute

        def run(s: LabSession) -> Any:
            out = execute(s, line)
            for fn in list(self._driver.tick_listeners):  # e.g. a killed broker's port closes right away
                fn()
            return out

        result = self.call(run)
        if not result.ok:
            raise RuntimeError(result.error or f"{line}: failed")
        return list(result.lines)

    # -- what a test needs ---------------------------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"{self.host}:{self.ports[b]}" for b in sorted(self.ports))

    @property
    def session(self) -> LabSession:
        """The lab session (only touch it inside :meth:`call`)."""
        if self._session is None:
            raise RuntimeError("the cluster is not running")
        return self._session

    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        replication_factor: int = 1,
        config: dict[str, Any] | None = None,
    ) -> None:
        """Create a topic (``kafka-topics --create``) and wait until its leaders are in place."""
        line = f"kafka-topics --create --topic {name} --partitions {partitions} --replication-factor {replication_factor}"
        for k, v in (config or {}).items():
            line += f" --config {k}={str(v).lower() if isinstance(v, bool) else v}"
        self.command(line)
        self.wait_until(
            lambda c: all(p.leader >= 0 and p.high_watermark >= 0 for p in c.describe_topic(name))
        )

    def describe_topic(self, topic: str) -> list[PartitionInfo]:
        return self.call(lambda s: s.cluster.describe_topic(topic))

    def leader_of(self, topic: str, partition: int = 0) -> int:
        return next(p.leader for p in self.describe_topic(topic) if p.partition == partition)

    def transaction_coordinator(self, transactional_id: str) -> int:
        """The broker that coordinates ``transactional_id`` now (-1 if none)."""
        return self.with_cluster(lambda c: _internal_leader(c, "__transaction_state", transactional_id))

    def group_coordinator(self, group_id: str) -> int:
        """The broker that coordinates ``group_id`` now (-1 if none)."""
        return self.with_cluster(lambda c: _internal_leader(c, "__consumer_offsets", group_id))

    def describe_group(self, group_id: str) -> GroupDescription:
        return self.call(lambda s: s.cluster.describe_group(group_id))

    def list_groups(self) -> list[str]:
        return self.call(lambda s: s.cluster.list_groups())

    def topics(self) -> list[str]:
        return self.call(lambda s: s.cluster.topics())

    def timeline(self) -> list[str]:
        return self.call(lambda s: [e.text for e in s.cluster.timeline])

    def read_all(self, topic: str) -> dict[int, list[tuple[int, bytes | None, bytes | None]]]:
        """(offset, key, value) of every committed record (below the high watermark) of every partition of
        ``topic``, read from the leader's log (or the longest live replica while there is no leader) without
        running the simulation. Transaction markers are left out; aborted records are not."""
        return self.with_cluster(lambda c: _read_committed_logs(c, topic))

    def with_cluster(self, fn: Callable[[Cluster], T]) -> T:
        return self.call(lambda s: fn(s.cluster))

    def wait_until(self, predicate: Callable[[Cluster], bool], timeout: float = 60.0) -> bool:
        """Wait (up to ``timeout`` wall seconds) until ``predicate(cluster)`` holds; it is checked in the
        cluster's thread after every slice of simulated time. Returns whether it came true."""
        done: concurrent.futures.Future[bool] = concurrent.futures.Future()
        driver = self._driver

        def check() -> None:
            if not done.done() and predicate(driver.session.cluster):
                done.set_result(True)

        def install(_s: LabSession) -> None:
            driver.tick_listeners.append(check)
            check()

        self.call(install)
        try:
            return done.result(timeout)
        except concurrent.futures.TimeoutError:
            return False
        finally:
            self.call(lambda _s: driver.tick_listeners.remove(check))

    def broker_fenced(self, broker_id: int) -> bool:
        """Whether the controller has fenced the broker (after ``broker.session.timeout.ms`` without a
        heartbeat, a killed broker is fenced and leaves the metadata clients see)."""
        return self.with_cluster(lambda c: _fenced(c, broker_id))

    # -- faults --------------------------------------------------------------------------------------------
    def kill_broker(self, broker_id: int) -> None:
        """kill -9 the broker: its sockets close, its port refuses connections until it restarts."""
        self.command(f"kill-broker {broker_id}")

    def restart_broker(self, broker_id: int) -> None:
        """Start a killed broker again; returns once its port accepts connections."""
        self.command(f"restart-broker {broker_id}")
        deadline = time.monotonic() + 60
        while not self.listening(broker_id) and time.monotonic() < deadline:
            self.call(lambda _s: None)

    def listening(self, broker_id: int) -> bool:
        """Whether the broker's port accepts connections (not while the broker is down)."""
        return bool(self.call(lambda _s: self._server._servers.get(broker_id) is not None))

    def pause_broker(self, broker_id: int) -> None:
        """SIGSTOP: connections stay open, nothing is answered until ``resume_broker``."""
        self.command(f"pause-broker {broker_id}")

    def resume_broker(self, broker_id: int) -> None:
        self.command(f"resume-broker {broker_id}")

    def partition(self, side_a: Iterable[int | str], side_b: Iterable[int | str] | None = None) -> None:
        """Cut the network between two sets of nodes (broker ids, or ``"outside"`` for every outside client;
        default: ``side_a`` against everything else, outside clients included)."""
        line = "partition " + ",".join(str(x) for x in side_a)
        if side_b is not None:
            line += " " + ",".join(str(x) for x in side_b)
        self.command(line)

    def heal(self) -> None:
        self.command("heal")


def _read_committed_logs(
    cluster: Cluster, topic: str
) -> dict[int, list[tuple[int, bytes | None, bytes | None]]]:
    out: dict[int, list[tuple[int, bytes | None, bytes | None]]] = {}
    for info in cluster.describe_topic(topic):
        key = (topic, info.partition)
        replicas = [cluster.brokers[b].partitions.get(key) for b in info.replicas if cluster.brokers[b].alive]
        live = [r for r in replicas if r is not None]
        leader = next((r for r in live if r.is_leader), None)
        src = leader or max(live, key=lambda r: r.log.log_end_offset, default=None)
        rows: list[tuple[int, bytes | None, bytes | None]] = []
        if src is not None:
            log = src.log
            hw = log.high_watermark
            for batch in log.iter_batches(log.log_start_offset):
                if batch.base_offset >= hw:
                    break
                if batch.is_control:
                    continue
                for off, rec in batch.iter_records():
                    if off < hw:
                        rows.append((off, rec.key, rec.value))
        out[info.partition] = rows
    return out


def _internal_leader(cluster: Cluster, topic: str, key: str) -> int:
    from .sim.partitioner import coordinator_partition

    if topic not in cluster.topics():
        return -1
    parts = cluster.describe_topic(topic)
    return parts[coordinator_partition(key, len(parts))].leader


def _fenced(cluster: Cluster, broker_id: int) -> bool:
    return any(b.fenced for b in cluster.describe_cluster().brokers if b.broker_id == broker_id)


try:
    import pytest
except ImportError:  # pragma: no cover - the fixture needs pytest, the class does not
    pass
else:

    @pytest.fixture
    def kafka_cluster(request: pytest.FixtureRequest) -> Iterator[KafkaCluster]:
        """A 3-broker kafkalab cluster on free ports of 127.0.0.1, with the fault API.

        ``@pytest.mark.kafka_cluster(brokers=5, seed=7, broker_config={...})`` changes its shape."""
        marker = request.node.get_closest_marker("kafka_cluster")
        kwargs = dict(marker.kwargs) if marker is not None else {}
        with KafkaCluster(**kwargs) as cluster:
            yield cluster

    def pytest_configure(config: pytest.Config) -> None:
        config.addinivalue_line(
            "markers",
            "kafka_cluster(brokers=3, seed=0, broker_config=None): shape of the kafka_cluster fixture",
        )
