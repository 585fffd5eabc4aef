"""Pilot tests: the real lab app, driven through its console and keys, checked on what it shows."""

from __future__ import annotations

from textual.widgets import Input, TabbedContent

from kafkalab.ui.app import KafkaLabApp, create_app
from kafkalab.ui.screens import HelpScreen, RewindScreen
from kafkalab.ui.screens.confirm import ConfirmScreen
from kafkalab.ui.widgets import BrokersPanel, LogStrip, StatusBar, TimelinePanel
from kafkalab.ui.widgets.brokers import render_brokers
from kafkalab.ui.widgets.log_strip import render_log

from .helpers import CREATE, console_lines, produce, run_command, table_rows
from .screen_text import renderable_text, screen_text


def make_app() -> KafkaLabApp:
    return create_app(brokers=3, seed=42, autoplay=False, cursor_blink=False)


async def test_kill_leader_shows_new_leader_and_isr_shrink() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await run_command(pilot, CREATE)
        rows = table_rows(app)
        assert sorted(rows) == ["events-0", "events-1", "events-2"]
        assert "URP" not in " ".join(" ".join(r) for r in rows.values())

        await produce(pilot, "events", [(f"user-{i}", f"click-{i}") for i in range(12)])
        app.advance(5_000)
        await pilot.pause()
        before = {p.name: p for p in app.view.partitions}
        assert sum(p.high_watermark for p in before.values()) == 12

        victim = before["events-0"].leader
        await run_command(pilot, f"kill-broker {victim}")
        app.advance(15_000)  # long enough for the broker session timeout and the election
        await pilot.pause()

        after = {p.name: p for p in app.view.partitions}
        p0 = after["events-0"]
        assert p0.leader not in (victim, -1)
        assert victim not in p0.isr and p0.under_replicated
        assert p0.leader_epoch > before["events-0"].leader_epoch

        # ...and it is on screen: the table row, the broker panel, the timeline
        row = table_rows(app)["events-0"]
        assert row[1] == str(p0.leader)
        assert f"✗{victim}" in row[2]  # Replicas: every replica, the one out of the ISR marked
        assert row[3] == ",".join(map(str, p0.isr)) + " URP"  # Isr: as kafka-topics --describe writes it
        brokers = renderable_text(render_brokers(app.query_one(BrokersPanel).view))
        assert f"✖ broker {victim} down" in brokers
        await pilot.press(*["ctrl+t"] * 5)  # Log -> Groups -> Charts -> Diagram -> Producers -> Timeline
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "tab-timeline"
        timeline = " ".join(line.text for line in app.query_one("#timeline", TimelinePanel).lines)
        assert f"broker {victim} died" in timeline
        assert f"broker {p0.leader} became leader of events-0" in " ".join(t for _, _, t in app.view.timeline)
        assert f"partition events-0: leader {victim} → {p0.leader}" in " ".join(timeline.split())
        text = screen_text(app)
        assert f"✗{victim}" in text and "URP" in text and f"✖ broker {victim} down" in text


async def test_log_strip_shows_markers_replicas_and_records() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await run_command(pilot, CREATE)
        await produce(pilot, "events", [("k", f"v{i}") for i in range(6)])  # one key: one partition
        app.advance(5_000)
        await pilot.pause()
        target = next(p for p in app.view.partitions if p.log_end_offset == 6)
        # pick that partition in the table with the keyboard
        await pilot.press("escape")
        assert app.focused is app.query_one("#topics")
        for _ in range(3):
            if app.view.selected == (target.topic, target.partition):
                break
            await pilot.press("down")
            await pilot.pause()
        assert app.view.selected == (target.topic, target.partition)
        strip = app.query_one(LogStrip)
        text = render_log(app.view.log, 60, show_records=False).plain
        assert f"{target.name} leader {target.leader}" in text
        assert "HW 6" in text and "LEO 6" in text and "▲start" in text
        assert text.count("■") == 6 * 3  # all three replicas hold the six records
        strip.focus()
        await pilot.press("v")
        await pilot.pause()
        assert strip.show_records
        assert "5 k → v5" in screen_text(app)
        listed = render_log(app.view.log, 60, show_records=True).plain
        assert all(f"{i} k → v{i}" in listed for i in range(6))


async def test_console_rejects_malformed_commands() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        events_before = app.view.events
        for bad in (
            "kafka-topics --create",
            "frobnicate the cluster",
            'kafka-topics --create --topic "unclosed',
        ):
            await run_command(pilot, bad)
            last = console_lines(app)[-1]
            assert last.startswith("error: "), last
            assert "\n" not in last
        assert app.view.partitions == ()
        assert app.view.events == events_before  # nothing changed
        assert "error:" in screen_text(app)
        # the console keeps working afterwards
        await run_command(pilot, CREATE)
        assert len(app.view.partitions) == 3


async def test_typing_in_console() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"kill-broker 2", "enter")
        await pilot.pause()
        assert app.view.brokers[1].state == "down"
        assert app.query_one("#console-input", Input).value == ""
        await pilot.press("up")
        assert app.query_one("#console-input", Input).value == "kill-broker 2"


async def test_time_control_keys() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.query_one(StatusBar)
        assert not app.playing and "paused" in status.render().plain
        # F-keys work while typing in the console
        assert app.focused is app.query_one("#console-input")
        await pilot.press("f2")
        assert app.playing and "playing" in status.render().plain
        await pilot.press("f2")
        assert not app.playing

        events = app.view.events
        await pilot.press("f3")  # to the next timeline event: an idle cluster has none within 60 s
        await pilot.pause()
        assert app.view.events > events
        assert "next: none" in status.render().plain

        await pilot.press("f7")
        assert app.speed == 2.0
        await pilot.press("f6", "f6")
        assert app.speed == 0.5
        for _ in range(12):
            await pilot.press("f7")
        assert app.speed == 100.0
        await pilot.pause()
        assert "100×" in status.render().plain

        # single keys work once the focus leaves the console
        await pilot.press("escape")
        assert app.focused is not app.query_one("#console-input")
        await pilot.press("space")
        assert app.playing
        await pilot.press("space")
        events = app.view.events
        await pilot.press("greater_than_sign", "greater_than_sign")  # raw events, one at a time
        await pilot.pause()
        assert app.view.events == events + 2
        assert "event:" in status.render().plain
        await pilot.press("less_than_sign")
        await pilot.pause()
        assert app.view.events == events + 1
        await pilot.press("minus")
        assert app.speed == 50.0


async def test_rewind_and_restart() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await run_command(pilot, CREATE)
        app.advance(2_000)
        await pilot.pause()
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, RewindScreen)
        await pilot.press(*"1", "enter")  # a bare number is seconds, as the dialog says
        await pilot.pause()
        assert app.view.now_ms == 1000 and len(app.view.partitions) == 3

        await pilot.press("f8")  # asks first
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert app.view.partitions == ()
        assert app.view.now_ms < 100
        assert "restarted" in " ".join(console_lines(app))


async def test_help_screen_and_tabs() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "Play" in text and "Step" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        tabs = app.query_one(TabbedContent)
        assert tabs.active == "tab-log"
        await pilot.press("ctrl+t")
        assert tabs.active == "tab-groups"


async def test_every_binding_is_described() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)):
        for b in KafkaLabApp.BINDINGS + LogStrip.BINDINGS:
            assert b.id and b.description and b.tooltip, b
        described = app.binding_descriptions()
        assert all(desc and tip for _, desc, tip in described)


async def test_timer_advances_virtual_time() -> None:
    app = create_app(brokers=3, seed=42, autoplay=True, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        start = app.view.now_ms
        for _ in range(100):
            await pilot.pause(0.02)
            if app.view.now_ms > start + 50:
                break
        assert app.view.now_ms > start + 50
        await pilot.press("f2")  # pause
        await pilot.pause()
        frozen = app.view.now_ms
        await pilot.pause(0.2)
        assert app.view.now_ms == frozen


def test_timeline_merges_internal_topic_runs() -> None:
    from kafkalab.sim.cluster import TimelineEntry
    from kafkalab.ui.view import summarize_timeline

    entries = [TimelineEntry(5, "topic events created")]
    entries += [
        TimelineEntry(7, f"broker {1 + i % 2} became leader of __consumer_offsets-{i} (epoch 0)")
        for i in range(6)
    ]
    entries += [TimelineEntry(8, "broker 1 became leader of __consumer_offsets-9 (epoch 0)")]
    got = [text for _, _, text in summarize_timeline(entries, 0)]
    assert got == [
        "topic events created",
        "broker 1 became leader of 3 partitions of __consumer_offsets (epoch 0)",
        "broker 2 became leader of 3 partitions of __consumer_offsets (epoch 0)",
        "broker 1 became leader of __consumer_offsets-9 (epoch 0)",
    ]
