"""Latency of the lab screen (run by hand; prints numbers).

* time to first frame: from building the app (cluster boot included) to the first painted screen;
* key-to-screen latency: a key press (F7/F6, speed up/down) until the status bar shows the new speed, while a
  background producer writes ~10k records per second of virtual time at 1x speed and the timer advances the
  simulation (so the app is as busy as it gets in normal use);
* the same with a topic of 1,000 partitions (a big cluster: every snapshot describes 1,000 partitions, the
  table holds 1,000 rows, the simulation runs ~10,000 follower events per virtual second).

Headless (Textual's test driver), 120x40. Targets: first frame < 1 s, key-to-screen p95 < 50 ms with 6
partitions and < 100 ms with 1,000.

    .venv/bin/python benchmarks/ui_latency.py [--rate 10000] [--presses 40] [--partitions 6,1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from rich.text import Text
from textual import events

from kafkalab.gc_tuning import tune_gc
from kafkalab.ui.app import create_app
from kafkalab.ui.messages import CommandSubmitted
from kafkalab.ui.widgets.status import StatusBar, format_speed


class Probe:
    """Timestamps of what the status bar painted: patched into ``StatusBar.render``."""

    def __init__(self) -> None:
        self.first_frame: float | None = None
        self.waiting_for: str | None = None
        self.seen_at: float | None = None
        original = StatusBar.render

        def render(bar: StatusBar) -> Text:
            text = original(bar)
            now = time.perf_counter()
            if self.first_frame is None and bar.view is not None:
                self.first_frame = now
            if self.waiting_for is not None and self.waiting_for in text.plain:
                self.seen_at = now
                self.waiting_for = None
            return text

        StatusBar.render = render  # type: ignore[method-assign]


async def run(rate: int, presses: int, partitions: int, probe: Probe) -> None:
    probe.first_frame = None
    tune_gc()  # as run_app() does
    t0 = time.perf_counter()
    app = create_app(brokers=3, seed=42, autoplay=True, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert probe.first_frame is not None
        first_frame = probe.first_frame - t0
        created = time.perf_counter()
        for line in (
            f"kafka-topics --create --topic bench --partitions {partitions} --replication-factor 3 "
            "--config min.insync.replicas=2",
            f"start-producer bench --topic bench --rate {rate} --key-count 1000 --linger-ms 5",
        ):
            app.post_message(CommandSubmitted(line))
            await pilot.pause()
        await pilot.pause()
        create_s = time.perf_counter() - created
        assert app.view is not None and len(app.view.partitions) == partitions, "the topic was not created"
        await pilot.pause(1.0)  # warm up: the producer gets its id and metadata, batches start flowing

        wall0, virt0 = time.perf_counter(), app.session.now_ms
        acked0 = sum(getattr(c, "acked_records", 0) for c in app.session.cluster.clients)
        behind = 0
        latencies = []
        for i in range(presses):
            key = "f7" if i % 2 == 0 else "f6"
            probe.waiting_for = format_speed(2.0 if key == "f7" else 1.0)
            probe.seen_at = None
            start = time.perf_counter()
            # the key goes through the app's event queue like a real key press, behind any queued ticks
            app.post_message(events.Key(key, None))
            while probe.seen_at is None:
                await asyncio.sleep(0.0005)
            latencies.append((probe.seen_at - start) * 1000)
            behind += bool(app.view and app.view.behind)
            await asyncio.sleep(0.05)
        wall = time.perf_counter() - wall0
        virt = app.session.now_ms - virt0
        acked = sum(getattr(c, "acked_records", 0) for c in app.session.cluster.clients) - acked0

    latencies.sort()
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    target = 50 if partitions <= 100 else 100
    print(f"-- a topic of {partitions} partitions, a producer at {rate} records/s")
    print(f"time to first frame     {first_frame * 1000:8.1f} ms   (target < 1000 ms; cluster boot included)")
    print(f"creating the topic      {create_s * 1000:8.1f} ms   (the command runs in the UI loop)")
    print(
        f"key-to-screen latency   median {statistics.median(latencies):6.1f} ms   p95 {p95:6.1f} ms   "
        f"max {latencies[-1]:6.1f} ms   (target < {target} ms)"
    )
    print(
        f"load during the test    {acked / wall:8.0f} records/s acknowledged per wall second; virtual time ran at "
        f"{virt / 1000 / wall:4.2f}x wall (1x/2x asked); sim behind the clock at {behind}/{presses} presses"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=10_000, help="records per virtual second (default 10000)")
    ap.add_argument("--presses", type=int, default=40, help="key presses to time (default 40)")
    ap.add_argument(
        "--partitions",
        default="6,1000",
        help="comma-separated partition counts of the benchmark topic, one run each (default 6,1000)",
    )
    args = ap.parse_args()
    probe = Probe()
    for n in (int(x) for x in args.partitions.split(",")):
        asyncio.run(run(args.rate, args.presses, n, probe))


if __name__ == "__main__":
    main()
