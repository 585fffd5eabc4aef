"""``kafkalab serve``: a real server on a free localhost port; the page, then the websocket drives a lab process."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

import aiohttp
import pytest

from kafkalab.classroom.serve import is_local_host, lab_command
from kafkalab.cli import main


async def _url(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    seen = []
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line, f"the server ended: {''.join(seen)}"
        seen.append(line)
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if m:
            return m.group(0)


async def test_serve_gives_each_connection_its_own_lab() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kafkalab.cli",
        "serve",
        "--port",
        "0",
        "--seed",
        "31337",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        url = await _url(proc)
        host = url.removeprefix("http://")
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/") as page:
                assert page.status == 200
                html = await page.text()
            assert f'data-session-websocket-url="ws://{host}/ws"' in html
            # a page of another origin may not drive a lab
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(f"ws://{host}/ws", headers={"Origin": "http://elsewhere.example"})
            assert refused.value.status == 403
            # the page's own websocket: a lab process starts and draws the sandbox with the seed given
            async with http.ws_connect(f"ws://{host}/ws?width=100&height=30", headers={"Origin": url}) as ws:
                screen = b""
                text = ""
                while "seed 31337" not in text or "kafkalab sandbox" not in text:
                    msg = await asyncio.wait_for(ws.receive(), 60)
                    assert msg.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT), msg
                    screen += msg.data if isinstance(msg.data, bytes) else msg.data.encode()
                    text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", screen).decode("utf-8", "replace")
                # the status bar and the console's first line: the sandbox, with the seed given to serve
                await ws.send_json(["stdin", "\x11"])  # ctrl+q: the lab quits, the socket closes
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            await asyncio.wait_for(proc.wait(), 30)
    assert proc.returncode == 0


def test_a_host_other_machines_reach_needs_public(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["serve", "--host", "0.0.0.0", "--port", "0"])
    assert e.value.code == 2
    assert "no authentication: add --public" in capsys.readouterr().err
    assert is_local_host("localhost") and is_local_host("127.0.0.1") and is_local_host("::1")
    assert not is_local_host("0.0.0.0") and not is_local_host("192.168.1.4")


def test_options_pass_through_to_each_lab(capsys: pytest.CaptureFixture[str]) -> None:
    command = lab_command(["play", "/tmp/my story.yaml", "--present"])
    assert "-m kafkalab.cli play '/tmp/my story.yaml' --present;" in command
    assert command.startswith('d=$(mktemp -d) && KAFKALAB_DATA_DIR="$d" ')  # progress per tab
    assert main(["serve", "--lesson", "no-such-lesson"]) == 2
    assert "no lesson 'no-such-lesson'" in capsys.readouterr().err
    assert main(["serve", "--scenario", "/nonexistent.yaml"]) == 2
    assert "cannot read the file" in capsys.readouterr().err
