"""The Platform screen shows which worker runs what, the registry's leader and the internal topics."""

from __future__ import annotations

from rich.console import Console

from kafkalab.commands import LabSession, execute
from kafkalab.ui.app import create_app
from kafkalab.ui.screens.platform import PlatformScreen, platform_renderable


def _text(session: LabSession) -> str:
    console = Console(width=140, record=True)
    console.print(platform_renderable(session))
    return console.export_text()


def test_renderable_lists_workers_tasks_registry_and_topics() -> None:
    s = LabSession(brokers=3, seed=4, broker_config={"offsets.topic.num.partitions": 5})
    assert "Nothing runs yet" in _text(s)
    for line in (
        "schema-registry start",
        "connect start --workers 2",
        "kafka-topics --create --topic l --partitions 1 --replication-factor 3",
        "seq 1 5 >> in.txt",
        'curl -X PUT --data \'{"connector.class":"FileStreamSource","file":"in.txt","topic":"l"}\' '
        "http://localhost:8083/connectors/src/config",
        "run 5s",
    ):
        assert execute(s, line).ok, line
    text = _text(s)
    for want in (
        "schema-registry-1",
        "leader",
        "connect-1",
        "connect-2",
        "src-0 RUNNING",
        "connect-offsets",
        "_schemas",
        "connector",
    ):
        assert want in text, want
    assert execute(s, "connect kill-worker 2").ok
    assert "down" in _text(s)


async def test_ctrl_g_opens_and_escape_closes_the_screen() -> None:
    app = create_app(brokers=3, seed=42, autoplay=False, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.set_focus(None)
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.screen, PlatformScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PlatformScreen)
