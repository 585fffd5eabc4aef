"""``LabSession``: one simulated cluster plus everything the console started, replayable from (seed, actions).

A session owns a :class:`~kafkalab.sim.cluster.Cluster` and the *background clients* that console commands
start (``start-producer``, ``kafka-console-consumer`` ...). Background clients are simulation nodes driven
by timers in the simulation's own event heap, never by the caller's wall clock, so what they do depends only
on virtual time: calling :meth:`LabSession.tick` once with 1000 ms or twenty times with 50 ms gives exactly
the same run.

Every accepted command that changes the cluster other than by letting time pass is appended to
:attr:`LabSession.actions` together with its position in the run (events executed so far and virtual time).
A run is therefore a pure function of ``(seed, actions)``: rewinding restores the nearest checkpoint of the
world (or rebuilds the cluster from the seed) and re-executes the actions at the very positions where they
first ran. A rewind keeps the future it leaves as a branch that :meth:`LabSession.redo` returns to (see
:mod:`kafkalab.commands.timetravel`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..sim.cluster import Cluster
from ..sim.errors import KafkaError
from .timetravel import INPUT_MARK, Branch, TimeMachine, TravelReport
from .timetravel_store import share_lists

if TYPE_CHECKING:
    from ..sim.clients.common import Message
    from ..sim.clients.consumer import Consumer
    from ..sim.clients.producer import Producer
    from ..sim.kernel import TraceEvent
    from ..sim.world import World
    from .base import CommandResult

__all__ = [
    "BackgroundClient",
    "BackgroundConsumer",
    "BackgroundProducer",
    "ConsoleProducer",
    "LabSession",
    "MIN_SPEED",
    "MAX_SPEED",
    "POLL_INTERVAL_MS",
    "close_consumer",
]

MIN_SPEED = 0.1
MAX_SPEED = 100.0
#: how often (virtual ms) a background consumer polls, and a producer serves its delivery reports
POLL_INTERVAL_MS = 100
#: session.output keeps at most this many lines (older ones are dropped in chunks)
_OUTPUT_MAX = 20_000


def close_consumer(consumer: Consumer) -> None:
    """``consumer.close()`` that also works inside a simulation event.

    ``close()`` commits synchronously (auto-commit) and then sends LeaveGroup; a synchronous call cannot
    wait inside an event callback, so there the commit is sent asynchronously right before the LeaveGroup
    (the coordinator receives them in that order over the same connection).
    """
    if consumer.closed:
        return
    if not consumer.kernel.running:
        consumer.close()
        return
    commit = getattr(consumer, "_commit_positions", None)
    leave = getattr(consumer, "_leave_group", None)
    if getattr(consumer, "subscription", None) and getattr(consumer, "group_state", "unjoined") != "unjoined":
        if callable(commit) and getattr(consumer, "enable_auto_commit", False):
            commit(sync=False)
        if callable(leave):
            leave("the consumer is closing")
    consumer.closed = True
    consumer.unassign()


def _text(b: bytes | None) -> str:
    if b is None:
        return "null"
    return b.decode("utf-8", errors="replace")


class _World:
    """Everything a rewind rebuilds: the cluster, the action log, console output and background clients.

    Background clients hold a reference to the world (never to the :class:`LabSession`), so a session can
    swap in a replayed world in one assignment.
    """

    def __init__(self, cluster: Cluster, world: World | None = None) -> None:
        #: the cluster commands act on; with several clusters (a World), the one ``use-cluster`` chose
        self.cluster = cluster
        self.world = world
        self.actions: list[tuple[int, str]] = []
        #: per action: (events executed before it, events executed after it, virtual time after it)
        self.positions: list[tuple[int, int, int]] = []
        self.output: list[str] = []
        self.output_dropped = 0
        self.clients: dict[str, BackgroundClient] = {}
        self.console_producer: ConsoleProducer | None = None
        self.msg_counter = 0
        #: lab-shortcut producers (``produce``), one per acks setting, reused
        self.shortcut_producers: dict[str, Producer] = {}
        #: state of extension verbs (e.g. the copiers lesson verbs start); rebuilt by replaying them
        self.extension_state: dict[str, Any] = {}

    def emit(self, line: str) -> None:
        self.output.append(line)
        if len(self.output) > _OUTPUT_MAX:
            drop = _OUTPUT_MAX // 2
            del self.output[:drop]
            self.output_dropped += drop

    def next_value(self) -> str:
        self.msg_counter += 1
        return f"msg-{self.msg_counter}"


class BackgroundClient:
    """A console-started client that keeps working while virtual time passes."""

    kind = "client"

    def __init__(self, world: _World, name: str, topic: str) -> None:
        self.world = world
        self.name = name
        self.topic = topic
        self.running = True

    @property
    def node(self) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def _remove(self) -> None:
        self.running = False
        if self.world.clients.get(self.name) is self:
            del self.world.clients[self.name]

    def stop(self) -> list[str]:
        """Shut the client down cleanly (a consumer in a group leaves it)."""
        raise NotImplementedError

    def crash(self) -> list[str]:
        """The process dies: no goodbye to the cluster, its pending work is lost."""
        self._remove()
        crash_client = getattr(self.world.cluster, "crash_client", None)
        if callable(crash_client):
            crash_client(self.node.name)  # also notes it on the timeline
        else:
            self.node.crash()
        return [f"{self.name} crashed"]


class BackgroundProducer(BackgroundClient):
    """Produces ``rate`` records per second of virtual time with unique values ``msg-N``."""

    kind = "producer"

    def __init__(
        self,
        world: _World,
        name: str,
        topic: str,
        producer: Producer,
        rate: float,
        key_count: int = 0,
        settings: str = "",
    ) -> None:
        super().__init__(world, name, topic)
        self.producer = producer
        self.rate = rate
        self.key_count = key_count
        self.settings = settings
        self.sent = 0
        self.acked = 0
        self.failed = 0
        self.last_error: str | None = None
        self._start_ms = producer.kernel.now_ms
        self._timer: Any = None
        self._schedule_next()

    @property
    def node(self) -> Any:
        return self.producer

    def _due_ms(self, index: int) -> int:
        return self._start_ms + int(index * 1000 / self.rate)

    def _schedule_next(self) -> None:
        delay = max(0, self._due_ms(self.sent) - self.producer.kernel.now_ms)
        self._timer = self.producer.schedule(delay, "lab-produce", self._fire, self.name)

    def _fire(self) -> None:
        if not self.running:
            return
        try:
            self._produce_due()
        except Exception as e:  # never let a client error break the simulation loop
            self.world.emit(f"[{self.name}] ERROR {type(e).__name__}: {e}; the producer stopped")
            self._remove()

    def _produce_due(self) -> None:
        now = self.producer.kernel.now_ms
        while self._due_ms(self.sent) <= now:
            key = f"key-{self.sent % self.key_count}" if self.key_count > 0 else None
            self.producer.produce(
                self.topic, value=self.world.next_value(), key=key, on_delivery=self._report
            )
            self.sent += 1
        self.producer.poll(0)
        self._schedule_next()

    def _report(self, err: KafkaError | None, msg: Message) -> None:
        if err is None:
            self.acked += 1
            if self.last_error is not None:
                self.world.emit(f"[{self.name}] deliveries succeed again (last error was {self.last_error})")
                self.last_error = None
            return
        self.failed += 1
        if err.name() != self.last_error:
            self.last_error = err.name()
            self.world.emit(f"[{self.name}] delivery failed: {err.name()}: {err.str()}")

    def describe(self) -> str:
        keys = f", {self.key_count} keys" if self.key_count else ""
        err = f", last error {self.last_error}" if self.last_error else ""
        return (
            f"{self.name}: producer -> {self.topic} at {self.rate:g}/s ({self.settings}{keys}): "
            f"{self.sent} sent, {self.acked} acked, {self.failed} failed{err}"
        )

    def stop(self) -> list[str]:
        self._remove()
        if self._timer is not None:
            self._timer.cancel()
        self.producer.poll(0)
        self.producer.close()
        return [
            f"stopped {self.name}: {self.sent} sent, {self.acked} acked, {self.failed} failed"
            f" ({len(self.producer)} still in flight)"
        ]


class ConsoleProducer(BackgroundClient):
    """``kafka-console-producer``: each console line becomes a record (an empty one too) until end of input."""

    kind = "console-producer"
    #: an empty line ends input instead of being an empty record (the Schema Registry producers)
    empty_line_ends = False

    def __init__(
        self,
        world: _World,
        name: str,
        topic: str,
        producer: Producer,
        parse_key: bool,
        key_separator: str,
        ignore_error: bool,
        command: str,
    ) -> None:
        super().__init__(world, name, topic)
        self.producer = producer
        self.parse_key = parse_key
        self.key_separator = key_separator
        self.ignore_error = ignore_error
        self.command = command
        self.line_number = 0
        self.sent = 0
        self.acked = 0
        self.failed = 0
        self.closing = False
        self._pump: Any = None

    @property
    def node(self) -> Any:
        return self.producer

    @property
    def prompt(self) -> str:
        return ">"

    def _ensure_pump(self) -> None:
        if self._pump is None or self._pump.cancelled:
            self._pump = self.producer.schedule(POLL_INTERVAL_MS, "lab-poll", self._pump_fire, self.name)

    def _pump_fire(self) -> None:
        self._pump = None
        try:
            self.producer.poll(0)
        except Exception as e:  # never let a client error break the simulation loop
            self.world.emit(f"[{self.name}] ERROR {type(e).__name__}: {e}")
        if len(self.producer) > 0:
            self._ensure_pump()
        elif self.closing:
            self.producer.close()
            self._remove()

    def _report(self, err: KafkaError | None, msg: Message) -> None:
        if err is None:
            self.acked += 1
            return
        self.failed += 1
        value = msg.value()
        key = msg.key()
        self.world.emit(
            f"[{self.name}] ERROR Error when sending message to topic {msg.topic()} with key: "
            f"{'null' if key is None else f'{len(key)} bytes'}, value: "
            f"{'null' if value is None else f'{len(value)} bytes'} with error: {err.name()}: {err.str()}"
        )

    def finish(self) -> None:
        """End of input: close like the tool does at EOF (pending records are still delivered)."""
        self.closing = True
        if len(self.producer) == 0:
            self.producer.close()
            self._remove()
        else:
            self._ensure_pump()

    def describe(self) -> str:
        state = "closing" if self.closing else "reading lines"
        return f"{self.name}: console producer -> {self.topic} ({state}): {self.sent} sent, {self.acked} acked, {self.failed} failed"

    def stop(self) -> list[str]:
        self._remove()
        if self.world.console_producer is self:
            self.world.console_producer = None
        if self._pump is not None:
            self._pump.cancel()
        self.producer.close()
        return [f"stopped {self.name}"]


class BackgroundConsumer(BackgroundClient):
    """Polls every ``POLL_INTERVAL_MS`` of virtual time and prints what it got into ``session.output``."""

    kind = "consumer"

    def __init__(
        self,
        world: _World,
        name: str,
        topic: str,
        consumer: Consumer,
        *,
        group: str | None,
        console: bool,
        max_messages: int | None = None,
        formatter: Callable[[Message], str] | None = None,
    ) -> None:
        super().__init__(world, name, topic)
        self.consumer = consumer
        self.group = group
        self.console = console
        self.max_messages = max_messages
        self.formatter = formatter
        self.consumed = 0
        self.errors = 0
        self.last_error: str | None = None
        if console:
            self.kind = "console-consumer"
        self._timer: Any = consumer.schedule(0, "lab-poll", self._fire, name)

    @property
    def node(self) -> Any:
        return self.consumer

    def _fmt(self, m: Message) -> str:
        if self.formatter is not None:
            return f"[{self.name}] {self.formatter(m)}"
        return f"[{self.name}] {m.topic()}-{m.partition()}@{m.offset()} key={_text(m.key())} value={_text(m.value())}"

    def _fire(self) -> None:
        self._timer = None
        if not self.running:
            return
        try:
            self._poll_once()
        except Exception as e:  # never let a client error break the simulation loop
            self.world.emit(f"[{self.name}] ERROR {type(e).__name__}: {e}; the consumer stopped")
            self._remove()

    def _poll_once(self) -> None:
        want = 500
        if self.max_messages is not None:
            want = max(1, min(want, self.max_messages - self.consumed))
        msgs = self.consumer.consume(want, timeout=0)
        for m in msgs:
            err = m.error()
            if err is not None:
                self.errors += 1
                if err.name() != self.last_error:
                    self.last_error = err.name()
                    self.world.emit(f"[{self.name}] ERROR {err.name()}: {err.str()}")
                continue
            self.consumed += 1
            self.world.emit(self._fmt(m))
            if self.max_messages is not None and self.consumed >= self.max_messages:
                self.world.emit(f"[{self.name}] Processed a total of {self.consumed} messages")
                self._remove()
                close_consumer(self.consumer)
                return
        self._timer = self.consumer.schedule(POLL_INTERVAL_MS, "lab-poll", self._fire, self.name)

    def describe(self) -> str:
        grp = f" group {self.group}" if self.group else " (no group)"
        lim = f" of {self.max_messages}" if self.max_messages is not None else ""
        err = f", last error {self.last_error}" if self.last_error else ""
        return f"{self.name}: {self.kind} <- {self.topic}{grp}: {self.consumed}{lim} records{err}"

    def stop(self) -> list[str]:
        self._remove()
        if self._timer is not None:
            self._timer.cancel()
        close_consumer(self.consumer)
        if self.console:
            return [f"Processed a total of {self.consumed} messages"]
        return [f"stopped {self.name} after {self.consumed} records"]


class LabSession:
    """One cluster and everything the console started in it.

    ``cluster``, ``actions``, ``output``, ``clients`` and ``input_mode`` are views of the current run; after
    a rewind they refer to new objects (``generation`` tells a UI that it should re-read them).
    """

    def __init__(
        self,
        brokers: int = 3,
        seed: int = 42,
        controllers: int = 1,
        broker_config: dict[str, Any] | None = None,
        clusters: list[tuple[str, int]] | None = None,
    ) -> None:
        """``clusters``: several named clusters on one clock (``[("east", 3), ("west", 3)]``, a World);
        commands act on the first until ``use-cluster`` picks another."""
        self.clusters_spec = list(clusters) if clusters else None
        self.n_brokers = brokers
        self.n_controllers = controllers
        self.broker_config: dict[str, Any] = dict(broker_config or {})
        self.seed = seed
        self._speed = 1.0
        self.generation = 0
        #: set when a replay did not reach an action at the position it first ran at (a determinism bug)
        self.divergence: str | None = None
        self._wall_carry = 0.0
        #: extension verbs: console commands a host adds (lessons add theirs), name -> handler(session,
        #: line). They run through :func:`kafkalab.commands.execute` like any command, are recorded as
        #: actions and replayed by a rewind; they keep their state in :attr:`extension_state`.
        self.verbs: dict[str, Callable[[LabSession, str], CommandResult]] = {}
        #: 'help NAME' of each extension verb: its lines (the first is "NAME: summary")
        self.verb_help: dict[str, list[str]] = {}
        #: outside inputs (requests of real Kafka clients, HTTP calls): kind -> apply(session, detail). Applied
        #: with :meth:`apply_input`, recorded in the action log as ``INPUT_MARK + kind + " " + detail`` at the
        #: position they were applied, and re-applied there by a rewind.
        self.inputs: dict[str, Callable[[LabSession, str], object]] = {}
        #: checkpoints, branches and trips through time
        self.travel = TimeMachine(self)
        self._action_cpu: float | None = None
        #: the kinds of timeline events stepping by meaning stops at (None: the default kinds)
        self.step_kinds: frozenset[str] | None = None
        self._w = self._new_world()
        #: events the cluster's boot ran (nothing before this point can be reached)
        self.start_events = self.events
        if self.clusters_spec:
            # a checkpoint captures one cluster's data directory; with several, rewinds replay from the seed
            self.travel.enabled = False
            self.travel.disabled_reason = "several clusters"

    @classmethod
    def _shell(cls, template: LabSession, world: _World) -> LabSession:
        """A session like ``template`` around an existing world (a restored checkpoint); no checkpoints."""
        s = cls.__new__(cls)
        s.n_brokers = template.n_brokers
        s.clusters_spec = template.clusters_spec
        s.n_controllers = template.n_controllers
        s.broker_config = template.broker_config
        s.seed = template.seed
        s._speed = template._speed
        s.generation = 0
        s.divergence = None
        s._wall_carry = 0.0
        s.verbs = template.verbs
        s.verb_help = template.verb_help
        s.inputs = template.inputs
        s.travel = TimeMachine(s)
        s.travel.enabled = False
        s._action_cpu = None
        s.step_kinds = template.step_kinds
        s.start_events = template.start_events
        s._w = world
        return s

    def _install(self, world: _World, divergence: str | None) -> None:
        """Make ``world`` the current run (after a trip through time)."""
        self._w = world
        self.divergence = divergence
        self.generation += 1
        self._wall_carry = 0.0

    def _new_world(self) -> _World:
        if self.clusters_spec:
            from ..sim.world import World

            world = World(
                self.clusters_spec,
                self.seed,
                controllers=self.n_controllers,
                broker_config=self.broker_config,
            )
            return _World(next(iter(world.clusters.values())), world)
        return _World(
            Cluster(
                brokers=self.n_brokers,
                seed=self.seed,
                controllers=self.n_controllers,
                broker_config=self.broker_config,
            )
        )

    # -- views of the current run -------------------------------------------------------------------
    @property
    def cluster(self) -> Cluster:
        return self._w.cluster

    @property
    def actions(self) -> list[tuple[int, str]]:
        """(virtual time ms, command line) of every accepted state-changing command, in order."""
        return self._w.actions

    @property
    def action_positions(self) -> list[tuple[int, int, int]]:
        """(events before, events after, time after) of each action: where exactly in the run it happened."""
        return self._w.positions

    @property
    def output(self) -> list[str]:
        """Lines printed by background clients (records a console consumer printed, producer errors)."""
        return self._w.output

    @property
    def output_dropped(self) -> int:
        """How many of the oldest output lines were dropped to bound memory."""
        return self._w.output_dropped

    def read_output(self, since: int = 0) -> tuple[list[str], int]:
        """Output lines numbered ``since`` and later (numbering survives trimming); returns (lines, next)."""
        w = self._w
        start = max(0, since - w.output_dropped)
        return w.output[start:], w.output_dropped + len(w.output)

    @property
    def clients(self) -> dict[str, BackgroundClient]:
        return self._w.clients

    @property
    def extension_state(self) -> dict[str, Any]:
        """Where extension verbs keep their objects; a fresh dict after every rewind (see :attr:`verbs`)."""
        return self._w.extension_state

    @property
    def input_mode(self) -> str | None:
        """None, or what the console is reading lines for (e.g. a console producer's records)."""
        cp = self._w.console_producer
        if cp is None:
            return None
        return f"{cp.command}  (type records; ctrl+d or '.exit' ends)"

    def end_input(self) -> CommandResult | None:
        """End of input (ctrl+d) for the interactive command reading lines: a console producer ends."""
        if self._w.console_producer is None:
            return None
        from . import execute

        return execute(self, ".exit")

    @property
    def prompt(self) -> str:
        """What a UI should show before the input: ``>`` while a console producer reads lines."""
        return ">" if self._w.console_producer is not None else "$"

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        v = float(value)
        if not MIN_SPEED <= v <= MAX_SPEED:
            raise ValueError(f"speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}, got {value}")
        self._speed = v

    @property
    def now_ms(self) -> int:
        return self._w.cluster.now_ms

    @property
    def events(self) -> int:
        """Number of simulation events executed so far."""
        return int(self._w.cluster.kernel.stats.events)

    def position(self) -> tuple[int, int]:
        return self.events, self.now_ms

    # -- driving time ---------------------------------------------------------------------------------
    def tick(self, virtual_ms: int) -> None:
        """Advance the cluster by ``virtual_ms``; background clients work on their own timers meanwhile."""
        ms = int(virtual_ms)
        if ms > 0:
            self.travel.run_for(ms)

    def advance_wall(self, wall_ms: float) -> int:
        """For a UI timer: advance by ``wall_ms × speed`` (fractions carried over); returns the virtual ms."""
        total = wall_ms * self._speed + self._wall_carry
        ms = int(total)
        self._wall_carry = total - ms
        self.tick(ms)
        return ms

    def step(self) -> TraceEvent | None:
        """Run exactly one simulation event (None when nothing is scheduled)."""
        self.travel.maybe_checkpoint()
        return self._w.cluster.step()

    # -- actions --------------------------------------------------------------------------------------
    def _record(self, line: str, start: tuple[int, int]) -> int:
        self._w.actions.append((start[1], line))
        self._w.positions.append((start[0], start[0], start[1]))
        self._action_cpu = time.process_time()
        return len(self._w.actions) - 1

    def _finish_record(self, index: int) -> None:
        w = self._w
        if index < len(w.positions):
            w.positions[index] = (w.positions[index][0], self.events, self.now_ms)
        # what the command cost (it may have run the simulation: a replay pays it again)
        started = getattr(self, "_action_cpu", None)
        if started is not None:
            self._action_cpu = None
            self.travel.account(time.process_time() - started)

    def _advance_to(self, events: int, time_ms: int | None) -> None:
        k = self._w.cluster.kernel
        while k.stats.events < events:
            if k.step() is None:
                break
        if time_ms is not None and time_ms > k.now_ms:
            k.run_for(time_ms - k.now_ms)

    def apply_input(self, kind: str, detail: str, fn: Callable[[], object] | None = None) -> None:
        """Apply an outside input now (``fn``, default ``inputs[kind](self, detail)``) and record it so that a
        replay re-applies ``inputs[kind](session, detail)`` at exactly this position."""
        if kind not in self.inputs:
            raise KeyError(f"no input handler for {kind!r}")
        index = self._record(f"{INPUT_MARK}{kind} {detail}", self.position())
        if fn is not None:
            fn()
        else:
            self.inputs[kind](self, detail)
        self._finish_record(index)

    def _replay_line(self, line: str) -> None:
        if line.startswith(INPUT_MARK):
            kind, _, detail = line[1:].partition(" ")
            self.apply_input(kind, detail)
            return
        from . import execute

        execute(self, line)

    # -- rewinding -------------------------------------------------------------------------------------
    def _replay(
        self,
        plan: list[tuple[int, str, int, int, int]],
        final: tuple[int | None, int | None],
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> TravelReport:
        """Go to ``final`` (events, time) after running ``plan`` (time, line, events before, events after,
        time after): from the nearest checkpoint, else from the seed. The future left becomes a branch."""
        return self.travel.go(plan, final, progress=progress)

    def _plan(self) -> list[tuple[int, str, int, int, int]]:
        return [
            (t, line, s, e, et)
            for (t, line), (s, e, et) in zip(self._w.actions, self._w.positions, strict=True)
        ]

    def rewind_to(self, time_ms: int) -> LabSession:
        """Rebuild from the seed, replay the actions issued before ``time_ms``, run to ``time_ms``.

        A command runs as a whole: if one started before ``time_ms`` but its own run went past it (a
        ``produce`` waiting for a new leader), the session stops just before that command.
        """
        target = max(0, int(time_ms))
        plan: list[tuple[int, str, int, int, int]] = []
        final: tuple[int | None, int | None] = (None, target)
        for item in self._plan():
            t, _line, start, _end, end_t = item
            if t >= target:
                break
            if end_t > target:
                final = (start, t)
                break
            plan.append(item)
        with self.travel.trip(f"rewinding to t = {target / 1000:.3f} s"):
            self._replay(plan, final)
        return self

    def rewind_events(self, n: int) -> LabSession:
        """Go back ``n`` events (to the point just after event number ``events - n``).

        A command runs as a whole: if the target lies inside the events a command ran (``kafka-topics
        --create`` runs a few), the session goes back to just before that command.
        """
        target = max(0, self.events - max(0, int(n)))
        plan: list[tuple[int, str, int, int, int]] = []
        final: tuple[int | None, int | None] = (target, None)
        for item in self._plan():
            t, _line, start, end, _end_t = item
            if start < target and end <= target:
                plan.append(item)
                continue
            if start < target:
                final = (start, t)
            break
        with self.travel.trip(f"going back {max(0, int(n)):,} event(s)"):
            self._replay(plan, final)
        return self

    def replay(self) -> LabSession:
        """Rebuild from the seed and replay every action up to the current position (same run again)."""
        old = self._w
        with self.travel.trip("replaying from the seed"):
            tmp, divergence, report = self.travel.rebuild(
                self._plan(), self.position(), use_checkpoints=False
            )
        self._install(tmp._w, divergence)
        self.travel.last = report
        if not self.travel.line and not self.travel.branches:
            old.cluster.close()
        return self

    # -- branches ------------------------------------------------------------------------------------
    @property
    def branches(self) -> list[Branch]:
        """Futures left by rewinds, oldest first (:meth:`redo` returns to one)."""
        return list(self.travel.branches)

    def redo(self, number: int | None = None) -> LabSession:
        """Return to where a rewind left (default: the newest branch). Raises LookupError if there is none."""
        self.travel.redo(number)
        return self

    def time_travel_notes(self) -> list[str]:
        """Messages about time travel not yet shown (a branch forgotten, checkpoints turned off)."""
        notes, self.travel.notes = self.travel.notes, []
        return notes

    def restart_same_seed(self) -> LabSession:
        """Start over: a fresh cluster from the same seed, no actions, no clients, no output, no branches."""
        old = self._w
        self.travel.close()
        self._w = self._new_world()
        self.start_events = self.events
        self.generation += 1
        self.divergence = None
        self._wall_carry = 0.0
        _close_world(old)
        return self

    def reseed(self, seed: int) -> LabSession:
        """Start over with a different seed."""
        self.seed = int(seed)
        return self.restart_same_seed()

    def close(self) -> None:
        self.travel.close()
        _close_world(self._w)


# the console output only grows at its end (and is cut at its start): checkpoints share its older lines
share_lists(_World, "output", version="output_dropped")


def _close_world(w: _World) -> None:
    if w.world is not None:
        w.world.close()
    else:
        w.cluster.close()
