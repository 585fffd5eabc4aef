"""``kafkalab cluster``: a lab cluster with Kafka listeners and no screen, until Ctrl-C or SIGTERM."""

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
) -> int:
    """Serve a cluster of ``brokers`` brokers on ``port``, ``port + 1``, ...; print the bootstrap servers line
    once they accept connections, then the cluster's timeline as it happens. Returns the exit status."""
    return asyncio.run(_serve(brokers, port, seed, broker_config, out or sys.stdout, timeline))


async def _serve(
    brokers: int, port: int, seed: int, broker_config: dict[str, Any] | None, out: TextIO, timeline: bool
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
    print(f"bootstrap.servers={server.bootstrap_servers}", file=out, flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
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
        await server.stop()
        session.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    print("kafkalab cluster: stopped", file=sys.stderr)
    return 0
