"""The Platform screen (ctrl+g): Schema Registry instances, Connect workers, connectors and tasks, internal topics.

Which worker runs which connector and task, who leads the registry and the Connect group, and how far the
internal topics (``_schemas``, ``connect-configs``, ``connect-offsets``, ``connect-status``) have grown. It
reads the session the app owns every half second and never changes anything.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["PlatformScreen", "platform_renderable"]

INTERNAL_TOPICS = ("_schemas", "connect-configs", "connect-offsets", "connect-status")


def _table(title: str, *cols: str) -> Table:
    t = Table(title=title, title_justify="left", expand=True, show_edge=False, pad_edge=False)
    for c in cols:
        t.add_column(c, overflow="fold")
    return t


def platform_renderable(session: Any) -> Group:
    """Everything the screen shows, from a session (pure: no Textual, testable headless)."""
    plat = session.extension_state.get("platform") if session is not None else None
    cluster = session.cluster if session is not None else None
    parts: list[Any] = []
    regs = getattr(plat, "registries", {}) or {}
    workers = getattr(plat, "workers", {}) or {}
    if not regs and not workers:
        parts.append(
            Text(
                "Nothing runs yet. In the console: schema-registry start   connect start --workers 2",
                style="dim",
            )
        )
    if regs:
        t = _table("Schema Registry", "instance", "role", "leader", "subjects", "ids", "_schemas offset")
        for r in regs.values():
            d = r.describe()
            role = (
                Text("down", style="red")
                if d["state"] == "down"
                else (Text("leader", style="bold green") if d["is_leader"] else Text(d["state"]))
            )
            t.add_row(
                d["name"],
                role,
                str(d["leader"] or "-"),
                str(len(d["subjects"])),
                str(d["schemas"]),
                str(d["offset"]),
            )
        parts.append(t)
    if workers:
        t = _table(
            "Connect workers (group connect-cluster)", "worker", "state", "generation", "connectors", "tasks"
        )
        for w in workers.values():
            d = w.describe()
            state = (
                Text("down", style="red")
                if d["state"] == "down"
                else Text(
                    d["state"] + (" (leader)" if d["leader"] else ""),
                    style="bold green" if d["leader"] else "",
                )
            )
            tasks = ", ".join(f"{x['id']} {x['state']} ({x['records']})" for x in d["tasks"]) or "-"
            t.add_row(d["name"], state, str(d["generation"]), ", ".join(d["connectors"]) or "-", tasks)
        parts.append(t)
        live = next((w for w in workers.values() if w.alive and w.ready), None)
        if live is not None and live.connector_configs:
            t = _table(
                f"Connectors (as {live.name} reads connect-status)",
                "connector",
                "type",
                "state",
                "worker",
                "tasks",
            )
            for name in sorted(live.connector_configs):
                st = live.connector_status(name)
                tasks = (
                    ", ".join(f"{x['id']}: {x['state']} @ {x['worker_id'] or '-'}" for x in st["tasks"])
                    or "-"
                )
                t.add_row(
                    name,
                    st["type"],
                    st["connector"]["state"],
                    str(st["connector"]["worker_id"] or "-"),
                    tasks,
                )
            parts.append(t)
    if cluster is not None:
        have = [t for t in INTERNAL_TOPICS if t in cluster.topics()]
        if have:
            t = _table(
                "Internal topics (compacted)", "topic", "partitions", "records (sum of LEO)", "leaders"
            )
            for name in have:
                info = cluster.describe_topic(name)
                total = sum(max(0, p.log_end_offset) for p in info)
                leaders = sorted({p.leader for p in info})
                t.add_row(name, str(len(info)), str(total), ",".join(str(x) for x in leaders))
            parts.append(t)
    return Group(*parts)


class PlatformScreen(ModalScreen[None]):
    """Shows the platform processes of the app's session, refreshed twice a second."""

    DEFAULT_CSS = """
    PlatformScreen {
        align: center middle;
    }
    PlatformScreen > VerticalScroll {
        width: 95%;
        height: 90%;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape,ctrl+g", "close", "Close", id="platform.close", tooltip="Back to the lab"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "Platform: Schema Registry and Kafka Connect"
            yield Static(id="platform-body")

    def on_mount(self) -> None:
        self.refresh_body()
        self.set_interval(0.5, self.refresh_body)

    def refresh_body(self) -> None:
        session = getattr(self.app, "session", None)
        try:
            body = platform_renderable(session)
        except Exception as e:  # a half-started process must not take the screen down
            body = Group(Text(f"(cannot show the platform right now: {type(e).__name__}: {e})", style="red"))
        self.query_one("#platform-body", Static).update(body)

    def action_close(self) -> None:
        self.dismiss(None)
