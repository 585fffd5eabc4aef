"""``kafkalab cluster`` and ``sandbox --listen`` serve Schema Registry and Connect beside the brokers.

The headless cluster runs as a subprocess on free ports of 127.0.0.1 and prints one line per service; a real
``confluent_kafka`` SchemaRegistryClient and a plain HTTP client use those URLs.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from kafkalab.cli import main
from kafkalab.commands import LabSession

sr = pytest.importorskip("confluent_kafka.schema_registry")

V1 = json.dumps({"type": "record", "name": "User", "fields": [{"name": "name", "type": "string"}]})
V2 = json.dumps(
    {
        "type": "record",
        "name": "User",
        "fields": [{"name": "name", "type": "string"}, {"name": "age", "type": "int", "default": 0}],
    }
)
#: a new field without a default: BACKWARD refuses it (a reader with it cannot read records without it)
BAD = json.dumps(
    {
        "type": "record",
        "name": "User",
        "fields": [{"name": "name", "type": "string"}, {"name": "email", "type": "string"}],
    }
)


def _read_lines(proc: subprocess.Popen[str], prefixes: tuple[str, ...], timeout_s: float) -> dict[str, str]:
    """The first stdout line starting with each prefix (a thread reads, so a silent process cannot hang)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    found: dict[str, str] = {}
    while len(found) < len(prefixes):
        line = lines.get(timeout=timeout_s)
        if line is None:
            break
        for p in prefixes:
            if line.startswith(p + "="):
                found.setdefault(p, line.split("=", 1)[1])
    return found


def test_kafkalab_cluster_prints_the_urls_and_real_clients_use_them() -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "kafkalab.cli", "cluster", "--brokers", "1", "--port", "0"]
    cmd += ["--schema-registry-port", "0", "--connect-port", "0", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        urls = _read_lines(proc, ("bootstrap.servers", "schema.registry.url", "connect.url"), 60)
        assert set(urls) == {"bootstrap.servers", "schema.registry.url", "connect.url"}, proc.stderr
        assert urls["schema.registry.url"].startswith("http://127.0.0.1:")
        assert urls["connect.url"].startswith("http://127.0.0.1:")
        client = sr.SchemaRegistryClient({"url": urls["schema.registry.url"]})
        assert client.register_schema("users-value", sr.Schema(V1, "AVRO")) == 1
        assert client.register_schema("users-value", sr.Schema(V2, "AVRO")) == 2
        assert json.loads(client.get_schema(2).schema_str) == json.loads(V2)
        with pytest.raises(sr.SchemaRegistryError) as refused:
            client.register_schema("users-value", sr.Schema(BAD, "AVRO"))
        assert refused.value.http_status_code == 409
        # Confluent's serializers: the schema id in the record comes from the lab's registry
        from confluent_kafka import Consumer, Producer, TopicPartition
        from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
        from confluent_kafka.serialization import MessageField, SerializationContext

        ser = AvroSerializer(client, V2, conf={"auto.register.schemas": False, "use.latest.version": True})
        p = Producer({"bootstrap.servers": urls["bootstrap.servers"]})
        p.produce(
            "users", value=ser({"name": "ann", "age": 7}, SerializationContext("users", MessageField.VALUE))
        )
        assert p.flush(30) == 0
        c = Consumer(
            {"bootstrap.servers": urls["bootstrap.servers"], "group.id": "t", "enable.auto.commit": False}
        )
        c.assign([TopicPartition("users", 0, 0)])
        msg = c.poll(30)
        c.close()
        assert msg is not None and msg.error() is None and msg.value()[:5] == b"\0\0\0\0\x02"
        de = AvroDeserializer(sr.SchemaRegistryClient({"url": urls["schema.registry.url"]}))
        assert de(msg.value(), SerializationContext("users", MessageField.VALUE)) == {"name": "ann", "age": 7}
        with urllib.request.urlopen(urls["connect.url"] + "/connectors", timeout=30) as resp:
            assert resp.status == 200 and json.loads(resp.read()) == []
        with urllib.request.urlopen(urls["connect.url"] + "/", timeout=30) as resp:
            assert json.loads(resp.read())["version"]  # the worker's root resource
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped" in err


def _busy_port() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


@pytest.mark.parametrize(
    ("option", "node"), [("--schema-registry-port", "schema-registry-1"), ("--connect-port", "connect-1")]
)
def test_a_busy_platform_port_is_a_one_line_error(
    option: str, node: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with _busy_port() as busy:
        port = busy.getsockname()[1]
        others = {"--schema-registry-port": "0", "--connect-port": "0", option: str(port)}
        argv = ["cluster", "--brokers", "1", "--port", "0"] + [x for kv in others.items() for x in kv]
        assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""  # nothing printed to stdout: a script reading the URLs sees no half-started cluster
    assert err.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port} for {node}: the port is busy" in err
    assert f"({option})" in err


def test_the_platform_ports_must_differ_from_each_other_and_the_brokers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv, message in (
        (["--schema-registry-port", "28081", "--connect-port", "28081"], "are both 28081"),
        (["--port", "28090", "--connect-port", "28091"], "port 28091 is a broker's port (28090..28092)"),
    ):
        with pytest.raises(SystemExit) as e:
            main(["cluster", *argv])
        assert e.value.code == 2
        assert message in capsys.readouterr().err


def test_sandbox_listen_serves_the_platform_beside_the_kafka_listeners(tmp_path: Path) -> None:
    from kafkalab.wire.applisten import AppListener

    session = LabSession(brokers=1, seed=5)

    async def go() -> tuple[str, list[str], int, bytes]:
        listener = AppListener(session, 0, session.tick, platform_ports=(0, 0))
        line = await listener.start()
        try:
            port = listener.http[1].port
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /connectors HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(), 30)
            writer.close()
            return line, listener.platform_lines, port, answer
        finally:
            await listener.stop()

    line, lines, port, answer = asyncio.run(go())
    assert line.startswith("Kafka listeners up: bootstrap.servers=127.0.0.1:")
    assert lines[0].startswith("schema.registry.url=http://127.0.0.1:")
    assert lines[1] == f"connect.url=http://127.0.0.1:{port}"
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"\r\n\r\n[]")
    # the processes are part of the run: a rewind would replay their start
    assert {"schema-registry start", "connect start"} <= {line for _i, line in session.actions}
    session.close()


def test_sandbox_listen_with_a_busy_platform_port_still_serves_kafka() -> None:
    from kafkalab.wire.applisten import AppListener

    session = LabSession(brokers=1, seed=5)
    with _busy_port() as busy:
        port = busy.getsockname()[1]

        async def go() -> tuple[str, list[str], dict[int, int]]:
            listener = AppListener(session, 0, session.tick, platform_ports=(0, port))
            line = await listener.start()
            try:
                return line, listener.platform_lines, dict(listener.server.ports)
            finally:
                await listener.stop()

        line, lines, kafka_ports = asyncio.run(go())
    assert line.startswith("Kafka listeners up") and kafka_ports
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port} for connect-1" in lines[0]
    assert "(--connect-port)" in lines[0]
    session.close()
