"""Several clusters on the lab screen: the Cluster panel names the one shown; ctrl+n switches."""

from __future__ import annotations

import gc

from kafkalab.commands import LabSession
from kafkalab.ui.app import create_app

from .helpers import console_lines, run_command, table_rows

FAST = {"offsets.topic.num.partitions": 2, "transaction.state.log.num.partitions": 2}


def factory(brokers: int, seed: int) -> LabSession:
    return LabSession(brokers, seed, clusters=[("east", 1), ("west", 1)], broker_config=FAST)


async def test_ctrl_n_switches_the_cluster_shown_and_acted_on() -> None:
    app = create_app(seed=42, autoplay=False, cursor_blink=False, session_factory=factory)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one("#brokers")
        assert panel.border_title.startswith("Cluster east (1 of 2")
        await run_command(pilot, "kafka-topics --create --topic orders --partitions 1 --replication-factor 1")
        assert "orders-0" in table_rows(app)
        app.set_focus(None)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert panel.border_title.startswith("Cluster west (2 of 2")
        assert "orders-0" not in table_rows(app)  # west has no such topic
        assert any("use-cluster west" in line for line in console_lines(app))
        await run_command(pilot, "cut-link east west")
        assert panel.border_title.endswith("link east-west cut")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert panel.border_title.startswith("Cluster east") and "orders-0" in table_rows(app)
    app.session.close()  # two clusters' files and memory go now, not in the middle of the next test
    gc.collect()


async def test_ctrl_n_with_one_cluster_explains() -> None:
    app = create_app(brokers=1, seed=42, autoplay=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.query_one("#brokers").border_title == "Cluster"
        app.set_focus(None)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.query_one("#brokers").border_title == "Cluster"
