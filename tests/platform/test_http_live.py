"""With a listening registry, confluent_kafka's SchemaRegistryClient registers, fetches and is refused."""

from __future__ import annotations

import asyncio
import json
import socket
import threading

import pytest

from kafkalab.commands import LabSession, execute
from kafkalab.wire.http import HttpListener, MiniDriver, register_http_inputs

sr = pytest.importorskip("confluent_kafka.schema_registry")

V1 = json.dumps({"type": "record", "name": "User", "fields": [{"name": "name", "type": "string"}]})
V2 = json.dumps(
    {
        "type": "record",
        "name": "User",
        "fields": [{"name": "name", "type": "string"}, {"name": "age", "type": "int", "default": 0}],
    }
)
BAD = json.dumps({"type": "record", "name": "User", "fields": [{"name": "email", "type": "string"}]})


class Live:
    """A session served live on 127.0.0.1 (free ports) by an asyncio loop in a thread."""

    def __init__(self, session: LabSession, nodes: list[str]) -> None:
        self.driver = MiniDriver(session)
        register_http_inputs(self.driver)
        self.listeners = [HttpListener(self.driver, n) for n in nodes]
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def go() -> None:
            for li in self.listeners:
                await li.start()
            self.ready.set()
            await self.driver.run()
            for li in self.listeners:
                await li.close()

        self.loop.run_until_complete(go())

    def __enter__(self) -> Live:
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.driver.stop)
        self.thread.join(10)


def test_confluent_client_registers_fetches_and_is_refused() -> None:
    s = LabSession(brokers=3, seed=3, broker_config={"offsets.topic.num.partitions": 5})
    assert execute(s, "schema-registry start").ok
    with Live(s, ["schema-registry-1"]) as live:
        client = sr.SchemaRegistryClient({"url": live.listeners[0].url})
        sid = client.register_schema("users-value", sr.Schema(V1, "AVRO"))
        assert sid == 1
        assert client.register_schema("users-value", sr.Schema(V2, "AVRO")) == 2
        fresh = sr.SchemaRegistryClient({"url": live.listeners[0].url})
        got = fresh.get_schema(2)
        assert json.loads(got.schema_str) == json.loads(V2) and got.schema_type == "AVRO"
        assert fresh.get_latest_version("users-value").version == 2
        with pytest.raises(sr.SchemaRegistryError) as e:
            client.register_schema("users-value", sr.Schema(BAD, "AVRO"))
        assert e.value.http_status_code == 409 and e.value.error_code == 409
        assert "incompatible" in e.value.error_message
        with pytest.raises(sr.SchemaRegistryError) as e2:
            fresh.get_schema(42)
        assert e2.value.error_code == 40403


def test_a_busy_port_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        li = HttpListener(MiniDriver(None), "schema-registry-1", port=port)
        with pytest.raises(
            OSError, match=f"cannot listen on 127.0.0.1:{port} for schema-registry-1: the port is busy"
        ):
            asyncio.run(li.start())


def test_serve_platform_starts_both_and_prints_the_urls() -> None:
    from kafkalab.wire.http import serve_platform

    s = LabSession(brokers=3, seed=9, broker_config={"offsets.topic.num.partitions": 5})
    driver = MiniDriver(s)

    async def go() -> list[str]:
        listeners, lines = await serve_platform(driver, registry_port=0, connect_port=0)
        for li in listeners:
            await li.close()
        return lines

    lines = asyncio.run(go())
    assert lines[0].startswith("schema.registry.url=http://127.0.0.1:") and lines[1].startswith(
        "connect.url=http://127.0.0.1:"
    )
    assert "schema-registry-1" in s.extension_state["platform"].registries
    assert "connect-1" in s.extension_state["platform"].workers
