"""Navigation people know (j/k, Enter, Esc, /), a timeline in plain language, natural sort, pictures (charts,
lag bars, the cluster diagram) and screenshots that say where they went (issue 13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, TabbedContent

from kafkalab.timeline_text import natural_key
from kafkalab.ui.app import KafkaLabApp, create_app
from kafkalab.ui.widgets import ChartsPanel, ClusterDiagram, FilterBar, GroupsPanel, LogStrip, TopicsTable
from kafkalab.ui.widgets.charts import render_charts
from kafkalab.ui.widgets.diagram import islands, render_diagram
from kafkalab.ui.widgets.groups import render_groups
from kafkalab.ui.widgets.timeline import TimelinePanel

from .helpers import run_command, table_rows
from .screen_text import screen_text


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAFKALAB_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def lab() -> KafkaLabApp:
    return create_app(brokers=3, seed=42, autoplay=False, cursor_blink=False)


def timeline_text(app: KafkaLabApp, panel_id: str = "timeline") -> str:
    return " ".join(
        " ".join(line.text.split()) for line in app.query_one(f"#{panel_id}", TimelinePanel).lines
    )


async def test_tables_move_with_j_k_enter_opens_esc_goes_back_and_slash_filters() -> None:
    app = lab()
    async with app.run_test(size=(100, 30)) as pilot:
        await run_command(
            pilot, "kafka-topics --create --topic events --partitions 12 --replication-factor 3"
        )
        names = list(table_rows(app))
        assert names == [f"events-{i}" for i in range(12)]  # events-2 before events-10
        await pilot.press("escape")
        table = app.query_one(TopicsTable)
        assert app.focused is table
        await pilot.press("j", "j")
        await pilot.pause()
        assert app.view.selected == ("events", 2)
        await pilot.press("k")
        await pilot.pause()
        assert app.view.selected == ("events", 1)
        # Enter: into the partition's log; Esc: back to the table
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "tab-log"
        assert app.focused is app.query_one(LogStrip)
        assert "events-1 leader" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is table
        # '/' filters the partitions; Enter keeps the filter, Esc clears it
        await pilot.press("slash")
        await pilot.pause()
        bar = app.query_one("#topics-filter", FilterBar)
        assert app.focused is bar
        await pilot.press(*"events-1")
        await pilot.pause()
        assert list(table_rows(app)) == ["events-1", "events-10", "events-11"]
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is table and bar.display and bar.value == "events-1"
        await pilot.press("slash", "escape")
        await pilot.pause()
        assert len(table_rows(app)) == 12 and not bar.value and app.focused is table


async def test_timeline_speaks_plain_language_and_folds_internal_topics() -> None:
    app = lab()
    async with app.run_test(size=(120, 40)) as pilot:  # the timeline has its own panel at this size
        for line in (
            "kafka-topics --create --topic events --partitions 3 --replication-factor 3",
            "kafka-topics --create --topic solo --partitions 1 --replication-factor 1",
            "kafka-configs --alter --topic events --add-config min.insync.replicas=2",
            "start-consumer c1 --topic events --group g1",  # creates __consumer_offsets (50 partitions)
        ):
            await run_command(pilot, line)
        app.advance(5_000)
        await pilot.pause()
        solo = next(p for p in app.view.partitions if p.topic == "solo")
        await run_command(pilot, f"kill-broker {solo.leader}")
        await run_command(pilot, "partition 2")
        app.advance(15_000)
        await pilot.pause()
        text = timeline_text(app, "timeline-side-log")
        assert "configs changed: min.insync.replicas=2" in text
        assert "network partition: broker-2 cannot reach" in text
        assert f"partition solo-0: leader {solo.leader} → no leader (offline)" in text
        assert "Isr " in text  # ISR changes as kafka-topics writes them (1,2,3 → 1,3)
        for repr_mark in ("['", "{'", "→-1", "[1,"):
            assert repr_mark not in text, repr_mark
        # internal topics are folded by default; i (in the timeline) shows them, i again folds them
        assert "__consumer_offsets" not in text
        assert any("__consumer_offsets" in e.text for e in app.session.cluster.timeline)
        app.query_one("#timeline-side-log").focus()
        await pilot.press("i")
        await pilot.pause()
        assert app.timeline_internal and "__consumer_offsets" in timeline_text(app, "timeline-side-log")
        assert "partitions of __consumer_offsets" in timeline_text(app, "timeline-side-log")  # merged runs
        await pilot.press("i")
        await pilot.pause()
        assert "__consumer_offsets" not in timeline_text(app, "timeline-side-log")
        # '/' filters the entries
        await pilot.press("slash", *"died")
        await pilot.pause()
        filtered = timeline_text(app, "timeline-side-log")
        assert f"broker {solo.leader} died" in filtered
        assert "network partition" not in filtered and "configs changed" not in filtered


async def test_groups_sort_naturally_draw_lag_bars_and_open_one_group() -> None:
    app = lab()
    async with app.run_test(size=(120, 40)) as pilot:
        await run_command(
            pilot, "kafka-topics --create --topic orders --partitions 12 --replication-factor 3"
        )
        await run_command(pilot, "start-consumer c1 --topic orders --group g1 --from-beginning")
        await run_command(pilot, "start-consumer c2 --topic orders --group g2 --from-beginning")
        app.advance(8_000)
        await pilot.pause()
        await run_command(pilot, "crash-consumer c1")  # g1 stops reading: its lag grows
        await run_command(pilot, "produce orders x --count 60")
        app.advance(2_000)
        await pilot.pause()
        g1 = next(g for g in app.view.groups or () if g.group_id == "g1")
        names = [name for name, _c, _l in g1.offsets]
        assert names == sorted(names, key=natural_key) and names.index("orders-2") < names.index("orders-10")
        assert any(lag for _n, _c, lag in g1.offsets)
        text = render_groups(app.view, 80).plain
        assert "█" in text or "▏" in text  # a lag bar
        # j/k pick a group, Enter shows it alone, Esc all again
        app.query_one(TabbedContent).active = "tab-groups"
        panel = app.query_one(GroupsPanel)
        panel.focus()
        await pilot.pause()
        await pilot.press("j", "enter")
        await pilot.pause()
        assert panel.opened == "g2" and "g1" not in panel.render().plain.split("Esc")[1]
        await pilot.press("escape")
        await pilot.pause()
        assert panel.opened is None and app.focused is panel
        # pictures: lag over time and the rates
        charts = render_charts(app.view, app.metrics, 40).plain
        assert "Produce" in charts and "Consume" in charts and "Lag g1" in charts
        assert any(v > 0 for v in app.metrics.produced.values)
        lag = app.metrics.lag["g1"].values
        assert lag and lag[-1] > 0
        assert app.query_one(ChartsPanel) is not None


async def test_the_diagram_draws_islands_and_replica_roles(tmp_path: Path, monkeypatch: Any) -> None:
    app = lab()
    async with app.run_test(size=(100, 30)) as pilot:
        await run_command(pilot, "kafka-topics --create --topic events --partitions 3 --replication-factor 3")
        await run_command(pilot, "partition 1")
        await run_command(pilot, "kill-broker 3")
        app.advance(12_000)
        await pilot.pause()
        groups = islands(app.view)
        assert ["broker-1"] in groups and len(groups) == 2
        text = render_diagram(app.view, 60).plain
        assert "╳━━" in text and "✖b3" in text and " L " in text or "L" in text.split("events-0")[1][:12]
        app.query_one(TabbedContent).active = "tab-diagram"
        await pilot.pause()
        assert "Network" in screen_text(app) and app.query_one(ClusterDiagram).is_on_screen

        # the palette's screenshot goes to the current directory and says where
        monkeypatch.chdir(tmp_path)
        app.action_save_screenshot()
        await pilot.pause()
        saved = list(tmp_path.glob("*.svg"))
        assert len(saved) == 1
        assert str(saved[0].name) in list(app._notifications)[-1].message
        monkeypatch.setenv("KAFKALAB_SCREENSHOT_DIR", str(tmp_path / "missing"))
        app.action_save_screenshot()
        await pilot.pause()
        note = list(app._notifications)[-1].message
        assert "could not save the screenshot" in note and "missing" in note
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Screenshot (SVG)" in titles and "Screenshot" not in titles
        assert app.query_one("#console-input", Input) is not None


def test_metrics_spread_jumps_forward_and_forget_the_future_after_a_rewind() -> None:
    from types import SimpleNamespace

    from kafkalab.ui.metrics import Metrics

    def view(now_ms: int, leo: int, session: int = 0) -> Any:
        part = SimpleNamespace(log_end_offset=leo)
        return SimpleNamespace(now_ms=now_ms, partitions=[part], groups=(), session_id=session)

    m = Metrics()
    m.sample(view(0, 0), [])
    m.sample(view(10_000, 100), [])  # a jump of 10 s (a redo, a fast run): 10 records/s in every second
    assert m.rate_tail(m.produced, 10) == [10.0] * 10
    m.sample(view(4_000, 40, session=1), [])  # a rewind: the seconds after 4 s are gone
    assert len(m.produced.values) == 4  # 0-1 s … 3-4 s
    m.sample(view(6_000, 80, session=1), [])  # the new branch: 20 records/s
    assert m.rate_tail(m.produced, 6)[-2:] == [20.0, 20.0]
