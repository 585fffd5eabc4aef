"""Focus you can see and a console you can read (issue 13): typed characters never trigger bindings while
the console has the focus, the focused panel is marked, the console scrolls, resizes and keeps background
output apart, and huge or hostile lines end in one-line errors."""

from __future__ import annotations

import random
import string
import time
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.widgets import Input, RichLog

from kafkalab.ui.app import KafkaLabApp, create_app
from kafkalab.ui.messages import CommandSubmitted
from kafkalab.ui.screens import HelpScreen
from kafkalab.ui.widgets import Console, LogStrip
from kafkalab.ui.widgets.console import ConsoleHeader

from ..commands.test_console_fuzz import CORPUS, _mutate
from .helpers import console_lines, run_command
from .screen_text import screen_text

#: every printable ASCII character (the console must take each one as text)
PRINTABLE = "".join(c for c in string.printable if c not in "\t\n\r\x0b\x0c")
#: the printable characters that are keys of the lab somewhere (a shorter check for the later paths)
BOUND = "?clr-+=.,<> vjk/hni"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAFKALAB_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def lab() -> KafkaLabApp:
    return create_app(brokers=3, seed=42, autoplay=False, cursor_blink=False)


def record_actions(app: KafkaLabApp) -> list[str]:
    """Every action a binding (or anything else) runs from now on."""
    ran: list[str] = []
    original = app.run_action

    async def run_action(action: Any, default_namespace: Any = None) -> bool:
        ran.append(str(action))
        return await original(action, default_namespace)

    app.run_action = run_action  # type: ignore[method-assign]
    return ran


async def type_every_printable(pilot: Any, app: KafkaLabApp, chars: str = PRINTABLE) -> None:
    """Type ``chars`` (all 95 printable characters) into the console; nothing but text may happen."""
    inp = app.query_one("#console-input", Input)
    assert app.focused is inp, app.focused
    assert "typing here" in app.query_one(ConsoleHeader).render().plain
    inp.value = ""
    speed, playing, screens = app.session.speed, app.playing, len(app.screen_stack)
    ran = record_actions(app)
    # as the terminal driver delivers them (pilot.press would wait for the screen after every key)
    for ch in chars:
        app.post_message(events.Key(_character_to_key(ch), ch))
    await pilot.pause()
    await pilot.pause()
    assert inp.value == chars
    assert ran == []  # no binding ran: c, l, r, -, +, ?, space, ., ,, v, /, j, k, h, n… were all text
    assert (app.session.speed, app.playing, len(app.screen_stack)) == (speed, playing, screens)
    inp.value = ""


async def test_typing_every_printable_character_into_the_console_triggers_no_binding() -> None:
    app = lab()
    async with app.run_test(size=(80, 24)) as pilot:
        await run_command(pilot, "kafka-topics --create --topic events --partitions 3 --replication-factor 3")
        await type_every_printable(pilot, app)

        # Esc: the focus leaves the console, and the screen says so (not only by colour)
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is app.query_one("#topics")
        assert app.query_one("#topics-box").has_class("-focus")
        assert str(app.query_one("#topics-box").border_title).startswith("▶ ")
        assert "(Esc: type here)" in app.query_one(ConsoleHeader).render().plain
        assert "▶ Topics" in screen_text(app)
        # a letter that is no key of the table starts typing in the console instead of being lost
        await pilot.press(*"afka-topics --list")
        await pilot.pause()
        assert app.query_one("#console-input", Input).value == "afka-topics --list"
        assert len(app.screen_stack) == 1 and app.session.speed == 1.0  # c and - did not fire
        assert not app.query_one("#topics-box").has_class("-focus")
        await type_every_printable(pilot, app, BOUND)

        # after the command palette
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        await type_every_printable(pilot, app, BOUND)

        # after opening a lesson from the log strip (l there opens the browser, Enter picks a lesson)
        app.query_one(LogStrip).focus()
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")  # the sandbox has a topic: opening a lesson asks first
        await pilot.pause()
        await pilot.pause()
        assert app.lesson_run is not None
        app.query_one("#console-input", Input).focus()  # the lesson's own lines ask to type there
        await pilot.pause()
        await type_every_printable(pilot, app)

        # '?' as a console line opens the help screen
        await run_command(pilot, "?")
        assert isinstance(app.screen, HelpScreen)


async def test_lesson_keys_outside_a_lesson_say_why_and_v_works_anywhere() -> None:
    app = lab()
    async with app.run_test(size=(80, 24)) as pilot:
        await run_command(pilot, "kafka-topics --create --topic events --partitions 3 --replication-factor 3")
        for key in ("f11", "f12", "ctrl+o"):
            before = len(app._notifications)
            await pilot.press(key)
            await pilot.pause()
            assert len(app._notifications) == before + 1, key
            assert "no lesson is open" in list(app._notifications)[-1].message
        await pilot.press("escape", "v")  # one Esc, then v: no Tab needed
        await pilot.pause()
        assert app.query_one(LogStrip).show_records


async def test_the_console_scrolls_back_resizes_and_keeps_background_output_apart() -> None:
    app = lab()
    async with app.run_test(size=(100, 30)) as pilot:
        console = app.query_one(Console)
        log = console.query_one("#console-output", RichLog)
        console.write_lines([f"line {i}" for i in range(120)])
        await pilot.pause()
        bottom = log.scroll_y
        assert bottom > 0 and log.is_vertical_scroll_end
        await pilot.press("pageup", "pageup")
        await pilot.pause()
        assert log.scroll_y < bottom
        reading = log.scroll_y
        console.write_lines(["a new reply"])  # arrives while reading back: the view stays put
        await pilot.pause()
        assert log.scroll_y == reading
        await pilot.press("pagedown", "pagedown", "pagedown")
        await pilot.pause()
        assert log.is_vertical_scroll_end

        rows = console.rows
        await pilot.press("ctrl+up", "ctrl+up")
        await pilot.pause()
        assert console.rows == rows + 4 and log.size.height == rows + 4
        await pilot.press("ctrl+down")
        assert console.rows == rows + 2
        # dragging the title line resizes too
        header = app.query_one(ConsoleHeader)
        y = header.region.y
        await pilot.mouse_down(header, offset=(5, 0))
        await pilot.hover(header, offset=(5, -3))
        await pilot.mouse_up(header, offset=(5, -3))
        await pilot.pause()
        assert console.rows >= rows + 4 or header.region.y < y

        # a background consumer prints into its own pane, not between the replies
        await run_command(pilot, "kafka-topics --create --topic events --partitions 2 --replication-factor 3")
        await run_command(pilot, "start-consumer c1 --topic events --group g1 --from-beginning")
        await run_command(pilot, "produce events hello --count 3")
        app.advance(12_000)  # the group's first rebalance waits group.initial.rebalance.delay.ms
        await pilot.pause()
        await pilot.pause()  # the pane was hidden until now: its lines are laid out once it has a size
        side = " ".join(strip.text.strip() for strip in console.client_output.lines)
        assert "[c1] events-0@0 key=null value=hello-1" in side, side
        assert not any("[c1]" in line for line in console_lines(app))
        assert console.query_one("#client-box").display


async def test_huge_and_hostile_lines_end_in_one_line_errors() -> None:
    app = lab()
    async with app.run_test(size=(80, 24)) as pilot:
        # keys typed faster than the app handles them (a busy app, a paste): each Enter ends its own line
        for ch in "status\rheal\r":
            app.post_message(events.Key("enter" if ch == "\r" else ch, ch))
        await pilot.pause()
        await pilot.pause()
        echoed = [line for line in console_lines(app) if line.startswith("$ ")]
        assert echoed == ["$ status", "$ heal"], echoed
        start = time.perf_counter()
        app.post_message(CommandSubmitted("kafka-topics --list " + "x" * 1_000_000))  # as if pasted
        await pilot.pause()
        assert time.perf_counter() - start < 5  # it took 14 s (shlex) before the bound
        tail = " ".join(console_lines(app)[-3:])  # the error wraps at 80 columns
        assert "error: the console reads lines of at most 100,000 characters; this one has 1,000,020" in tail
        assert len(console_lines(app)) < 40  # the echo of the megabyte is cut, not wrapped over the log
        await run_command(pilot, "run " + "9" * 400)
        assert console_lines(app)[-1] == "error: run takes a duration between 1 ms and 1 h"
        rng = random.Random(13)
        for _ in range(25):
            await run_command(pilot, _mutate(rng, rng.choice(CORPUS)))
            if app.session.input_mode is not None:
                await run_command(pilot, "")
        assert not any("internal error" in line for line in console_lines(app))
