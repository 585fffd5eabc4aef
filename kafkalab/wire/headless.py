"""``kafkalab cluster``: a lab cluster with Kafka listeners and no screen, until Ctrl-C or SIGTERM.

With the cluster come Schema Registry (``schema-registry-1``) and a Connect cluster (``connect-1``,
``connect-2``) on HTTP ports of their own, unless ``platform`` is off."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any, TextIO

__all__ = ["run_cluster"]


def run_cluster(
    brokers: int = 3,
    port: int = 19092,
    seed: int = 42,
    *,
    broker_config: dict[str, Any] | None = None,
    out: TextIO | None = None,
    timeline: bool = True,
    platform: bool = True,
    registry_port: int = 8081,
    connect_port: int = 8083,
) -> int:
    """Serve a cluster of ``brokers`` brokers on ``port``, ``port + 1``, ...; print the bootstrap servers line
    once they accept connections; with ``platform``, start Schema Registry on ``registry_port`` and Connect
    on ``connect_port`` (0: free ports) and print their URL lines; then the cluster's timeline as it
    happens. Returns the exit status (1 when a port is busy: one line on stderr says which)."""
    ports = (registry_port, connect_port) if platform else None
    return asyncio.run(_serve(brokers, port, seed, broker_config, out or sys.stdout, timeline, ports))


#: the option of ``kafkalab cluster`` that moves each HTTP listener
_PORT_OPTION = {"schema-registry-1": "--schema-registry-port", "connect-1": "--connect-port"}


async def _serve(
    brokers: int,
    port: int,
    seed: int,
    broker_config: dict[str, Any] | None,
    out: TextIO,
    timeline: bool,
    platform_ports: tuple[int, int] | None = None,
) -> int:
    from ..commands.session import LabSession
    from .driver import LiveDriver
    from .server import WireServer

    session = LabSession(brokers=brokers, seed=seed, broker_config=broker_config)
    # nobody rewinds here: no time-travel checkpoints (they would pause the clients while the run is captured)
    session.travel.enabled = False
    driver = LiveDriver(session, always_live=True)
    server = WireServer(driver, port=port)
    try:
        await server.start()
    except OSError as e:
        print(
            f"kafkalab cluster: cannot listen on 127.0.0.1:{port}..{port + brokers - 1}: {e.strerror or e}",
            file=sys.stderr,
        )
        await server.stop()
        session.close()
        return 1
    http: list[Any] = []
    if platform_ports is not None:
        from .http import ListenError, listen_platform, start_platform

        try:
            http = await listen_platform(driver, "127.0.0.1", *platform_ports)
        except ListenError as e:
            print(f"kafkalab cluster: {e.strerror} ({_PORT_OPTION[e.node]})", file=sys.stderr)
            await server.stop()
            session.close()
            return 1
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # (a Ctrl-C while the platform starts stops right after)
        loop.add_signal_handler(sig, stop.set)
    print(f"bootstrap.servers={server.bootstrap_servers}", file=out, flush=True)
    if http:
        for line in start_platform(driver, http):
            print(line, file=out, flush=True)
    if timeline:
        shown = [len(session.cluster.timeline)]

        def print_timeline() -> None:
            entries = session.cluster.timeline
            for e in entries[shown[0] :]:
                print(f"{e.time_ms:>10} ms  {e.text}", file=out, flush=True)
            shown[0] = len(entries)

        driver.tick_listeners.append(print_timeline)
    task = loop.create_task(driver.run())
    try:
        await stop.wait()
    finally:
        # the handlers stay installed until the data is gone: a second Ctrl-C must not interrupt the cleanup
        driver.stop()
        await task
        for li in http:
            await li.close()
        await server.stop()
        session.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    print("kafkalab cluster: stopped", file=sys.stderr)
    return 0
