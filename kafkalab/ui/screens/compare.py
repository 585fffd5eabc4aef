"""The Compare screen (``c`` / F10): one fault schedule, several delivery setups, side by side.

The learner picks a fault schedule, a seed, the setups and a record count and runs
:func:`kafkalab.compare.run_comparison`'s pipeline in a worker thread (one setup after another, each on its
own cluster, so the screen shows progress and never freezes). The results are the comparison's own numbers:
a scoreboard with one column per setup (move the cursor across it to pick a setup) and that setup's fate
ledger: every record (or only the lost and duplicated ones), and for the highlighted record its journey and
the one-line verdict naming the event that decided it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, DataTable, Footer, Input, Label, Select, Static
from textual.worker import get_current_worker

from ...compare import (
    BUILTIN_SCHEDULES,
    DEFAULT_CHOICE,
    DEFAULT_RECORDS,
    DEFAULT_SCHEDULE,
    DEFAULT_SEED,
    FAULT_KINDS,
    MAX_RECORDS,
    MEASURES,
    SETUP_PRESETS,
    ComparisonResult,
    RecordFate,
    Scoreboard,
    get_schedule,
    run_setup,
)
from ...timeline_text import plain_entry

__all__ = ["DEFAULT_CHOICE", "CompareScreen", "SCOREBOARD_ROWS", "TickBox", "render_fate"]

#: (row key, label, attribute of Scoreboard, a problem when > 0): the measures ``kafkalab compare`` prints
SCOREBOARD_ROWS: tuple[tuple[str, str, str, bool], ...] = tuple(
    (m.key, m.label, m.attr, m.problem) for m in MEASURES
)

#: width of a setup's column in the scoreboard (its producer and copier texts wrap in it)
SETUP_COLUMN_W = 14

_OUTCOME_STYLE = {"delivered": "green", "lost": "bold red", "duplicated": "bold yellow"}
#: how the ledger's outcome column says it (a word, not only a colour)
_OUTCOME_MARK = {"delivered": "✓ delivered", "lost": "✗ lost", "duplicated": "⧉ dup"}


def _number(x: int, problem: bool) -> Text:
    """A count; a problem count also says ✗ (or ✓ for none), so colour is a second cue only."""
    if not problem:
        return Text(str(x), justify="right")
    if x:
        return Text(f"{x} ✗", style="bold red", justify="right")
    return Text("0 ✓", style="green", justify="right")


def scoreboard_cells(sb: Scoreboard) -> list[Text]:
    """The cells of one setup's column, in :data:`SCOREBOARD_ROWS` order."""
    return [_number(int(getattr(sb, attr)), problem) for _key, _label, attr, problem in SCOREBOARD_ROWS]


class TickBox(Checkbox):
    """A checkbox whose tick is a ✓ (ticked) or a blank (not): the two states differ by more than colour."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802  (Textual's name)
        return "✓" if self.value else " "


def render_fate(fate: RecordFate | None, setup: str = "") -> RenderableType:
    """A record's journey (time | step, wrapped with a hanging indent), its verdict and its cause event."""
    if fate is None:
        return Text("Highlight a record to see its journey.", style="dim")
    head = Text()
    head.append(fate.value, style="bold")
    head.append(f"  key {fate.key}", style="dim")
    if fate.partition is not None:
        head.append(f"  partition in-{fate.partition}", style="dim")
    head.append("  → ")
    outcome = _OUTCOME_MARK[fate.outcome] if fate.outcome != "duplicated" else f"⧉ duplicated ×{fate.copies}"
    head.append(outcome, style=_OUTCOME_STYLE.get(fate.outcome, ""))
    if setup:
        head.append(f"  ({setup})", style="dim")
    journey = Table.grid(padding=(0, 1))
    journey.add_column(justify="right", style="dim", no_wrap=True)
    journey.add_column(ratio=1)
    for step in fate.journey:
        journey.add_row(f"{step.time_ms} ms", step.what)
    verdict = Text(fate.verdict, style=_OUTCOME_STYLE.get(fate.outcome, ""))
    parts: list[RenderableType] = [head, journey, Text(""), verdict]
    if fate.cause is not None:
        parts.append(
            Text.assemble(
                ("cause: ", "bold"),
                (f"{fate.cause.time_ms} ms ", "dim"),
                (plain_entry(fate.cause.event), "italic"),
            )
        )
    return Group(*parts)


def _schedule_text(name: str) -> Text:
    """The schedule's summary and its faults at the run's virtual times (the ledger's clock)."""
    s = BUILTIN_SCHEDULES[name]
    t = Text()
    t.append(s.summary, style="italic")
    for step in s.steps:
        t.append(f"\n  at {step.at_ms:>5} ms  ", style="bold")
        t.append(FAULT_KINDS[step.kind].format(target=step.target), style="dim")
    return t


class CompareScreen(Screen[None]):
    """Run one fault schedule against several delivery setups and read each record's fate."""

    BINDINGS = [
        Binding(
            "escape",
            "close",
            "Back to lab",
            id="compare.close",
            tooltip="Back to the lab (it keeps its state)",
        ),
        Binding(
            "ctrl+r,f5",
            "run",
            "Run",
            key_display="ctrl+r",
            id="compare.run",
            tooltip="Run the chosen schedule against the chosen setups (in the background)",
        ),
        Binding(
            "p",
            "toggle_problems",
            "Problems/all",
            id="compare.toggle-problems",
            tooltip="List only the lost and duplicated records of the setup, or every record",
        ),
        Binding(
            "left_square_bracket",
            "prev_setup",
            "Prev setup",
            key_display="[",
            id="compare.prev-setup",
            tooltip="Show the fate ledger of the previous setup",
        ),
        Binding(
            "right_square_bracket",
            "next_setup",
            "Next setup",
            key_display="]",
            id="compare.next-setup",
            tooltip="Show the fate ledger of the next setup",
        ),
    ]

    AUTO_FOCUS = "#cmp-run"

    #: below 72 columns ("-tiny") the form and the ledger stack vertically (see app.tcss)
    HORIZONTAL_BREAKPOINTS = [(0, "-tiny"), (72, "-narrow"), (110, "-wide")]

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        *,
        schedule: str = DEFAULT_SCHEDULE,
        records: int = DEFAULT_RECORDS,
    ) -> None:
        super().__init__(id="compare")
        self.seed = seed
        self._schedule = schedule if schedule in BUILTIN_SCHEDULES else next(iter(BUILTIN_SCHEDULES))
        self._records = records
        self.result: ComparisonResult | None = None
        self.setup: str | None = None  # the setup whose ledger is shown
        self.record: int | None = None  # index of the highlighted record
        self.problems_only = True
        self.running = False
        self._rows: list[int] = []

    # -- layout ---------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(
            Text.assemble(
                ("Compare delivery guarantees", "bold"),
                (
                    "  source → topic in → copier → topic out → sink; each setup on its own cluster, "
                    "same seed, same faults",
                    "dim",
                ),
            ),
            id="cmp-title",
        )
        with VerticalScroll(id="cmp-body"):
            with Horizontal(id="cmp-form"):
                with Horizontal(id="cmp-form-a", classes="cmp-form-part"):
                    yield Label("Faults", classes="cmp-label")
                    yield Select(
                        [(name, name) for name in BUILTIN_SCHEDULES],
                        value=self._schedule,
                        allow_blank=False,
                        compact=True,
                        id="cmp-schedule",
                        tooltip="The fault schedule every setup goes through",
                    )
                with Horizontal(id="cmp-form-b", classes="cmp-form-part"):
                    yield Label("Seed", classes="cmp-label")
                    yield Input(
                        str(self.seed),
                        type="integer",
                        compact=True,
                        id="cmp-seed",
                        tooltip="Seed of every cluster",
                    )
                    yield Label("Records", classes="cmp-label")
                    yield Input(
                        str(self._records),
                        type="integer",
                        compact=True,
                        id="cmp-count",
                        tooltip=f"Records the source produces (1–{MAX_RECORDS})",
                    )
                    yield Button(
                        "Run ▶", compact=True, id="cmp-run", variant="primary", tooltip="Run (ctrl+r)"
                    )
            yield Static(_schedule_text(self._schedule), id="cmp-schedule-text")
            # consumer-side guarantees on one row, producer-side presets (copied exactly-once) on the next
            for row, label, names in (
                (
                    "cmp-setups",
                    "Setups",
                    [n for n, s in SETUP_PRESETS.items() if s.acks == "all" and s.idempotence],
                ),
                ("cmp-producer", "      ", [n for n, s in SETUP_PRESETS.items() if not s.idempotence]),
            ):
                with Horizontal(id=row, classes="cmp-setup-row"):
                    yield Label(label, classes="cmp-label")
                    for name in names:
                        yield self._setup_box(name)
                    if row == "cmp-producer":
                        yield Label("(producer side)", classes="cmp-hint")
            yield Static(
                Text("Pick a schedule and setups, then Run (ctrl+r). Escape: back to the lab.", style="dim"),
                id="cmp-status",
            )
            board = DataTable(
                id="cmp-scoreboard",
                cursor_type="column",
                zebra_stripes=False,
                show_row_labels=True,
            )
            board.border_title = "Scoreboard"
            board.border_subtitle = "←/→ picks the setup"
            yield board
            with Horizontal(id="cmp-ledger"):
                with Vertical(id="cmp-records-box") as box:
                    box.border_title = "Fate ledger"
                    yield TickBox("problems only (p)", value=True, compact=True, id="cmp-problems")
                    yield DataTable(id="cmp-records", cursor_type="row", zebra_stripes=False)
                with VerticalScroll(id="cmp-fate-box") as fate_box:
                    fate_box.border_title = "Journey"
                    yield Static(render_fate(None), id="cmp-fate")
        yield Footer(compact=True)

    @staticmethod
    def _setup_box(name: str) -> Checkbox:
        s = SETUP_PRESETS[name]
        return TickBox(
            name,
            value=name in DEFAULT_CHOICE,
            compact=True,
            classes="cmp-setup",
            name=name,
            tooltip=f"producer {s.producer_text()} · copier {s.copier_text()}",
        )

    def on_mount(self) -> None:
        board = self.query_one("#cmp-scoreboard", DataTable)
        board.add_column(" ", key="_")  # replaced by the setups' columns after a run
        records = self.query_one("#cmp-records", DataTable)
        for key, label in (
            ("record", "record"),
            ("key", "key"),
            ("partition", "partition"),
            ("outcome", "outcome"),
        ):
            records.add_column(label, key=key)
        board.display = False  # until the first result
        self.query_one("#cmp-ledger").display = False

    # -- the form -------------------------------------------------------------------------------------
    @on(Select.Changed, "#cmp-schedule")
    def _schedule_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._schedule = event.value
            self.query_one("#cmp-schedule-text", Static).update(_schedule_text(event.value))

    @on(Button.Pressed, "#cmp-run")
    def _run_pressed(self, _event: Button.Pressed) -> None:
        self.action_run()

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    @on(Checkbox.Changed, "#cmp-problems")
    def _problems_changed(self, event: Checkbox.Changed) -> None:
        if event.value != self.problems_only:
            self.problems_only = event.value
            self._fill_records()

    def chosen_setups(self) -> list[str]:
        return [str(cb.name) for cb in self.query(".cmp-setup").results(Checkbox) if cb.value]

    def form(self) -> tuple[str, int, list[str], int] | str:
        """(schedule, seed, setups, records) from the form, or what is wrong with it."""
        try:
            seed = int(self.query_one("#cmp-seed", Input).value)
        except ValueError:
            return "the seed must be a whole number"
        try:
            records = int(self.query_one("#cmp-count", Input).value)
        except ValueError:
            return "the record count must be a whole number"
        if not 1 <= records <= MAX_RECORDS:
            return f"the record count must be between 1 and {MAX_RECORDS}"
        setups = self.chosen_setups()
        if not setups:
            return "tick at least one setup"
        return self._schedule, seed, setups, records

    # -- running ------------------------------------------------------------------------------------------
    def action_run(self) -> None:
        form = self.form()
        if isinstance(form, str):
            self._status(Text(form, style="bold red"))
            self.notify(form, severity="error")
            return
        if self.running:
            self.notify("A comparison is already running", severity="warning")
            return
        schedule, seed, setups, records = form
        self._status(Text(f"running 1/{len(setups)}: {setups[0]}…", style="bold yellow"))
        self.running = True
        self._compare(schedule, seed, setups, records)

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _compare(self, schedule_name: str, seed: int, setups: list[str], records: int) -> None:
        """Every setup on its own cluster, as :func:`kafkalab.compare.run_comparison` does, with progress."""
        worker = get_current_worker()
        schedule = get_schedule(schedule_name)
        runs = {}
        for i, name in enumerate(setups):
            if worker.is_cancelled:
                return
            if i:
                self._from_thread(
                    self._status, Text(f"running {i + 1}/{len(setups)}: {name}…", style="bold yellow")
                )
            runs[name] = run_setup(SETUP_PRESETS[name], schedule, seed, records)
        result = ComparisonResult(seed, schedule, records, runs)
        for name in setups:  # build the ledgers here too, off the event loop
            result.ledger(name)
        if not worker.is_cancelled:
            self._from_thread(self.show_result, result)

    def _from_thread(self, fn: Any, *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.app.call_from_thread(fn, *args)

    def on_worker_state_changed(self, event: Any) -> None:
        if event.worker.group == "compare" and event.state.name == "ERROR":
            self.running = False
            self._status(Text(f"the comparison failed: {event.worker.error}", style="bold red"))

    def _status(self, text: Text) -> None:
        self.query_one("#cmp-status", Static).update(text)

    # -- results --------------------------------------------------------------------------------------
    def show_result(self, result: ComparisonResult) -> None:
        """Show a finished comparison: the scoreboard, then the ledger of the first setup."""
        self.result = result
        self.running = False
        lost = sum(sb.lost for sb in result.scoreboards())
        dup = sum(sb.duplicated for sb in result.scoreboards())
        status = Text.assemble(
            ("done", "bold green"),
            (
                f": {result.schedule.name}, seed {result.seed}, {result.records} records, "
                f"{len(result.runs)} setups  ",
                "",
            ),
            (f"{lost} lost" if lost else "none lost", "bold red" if lost else "green"),
            ("  ", ""),
            (f"{dup} duplicated" if dup else "none duplicated", "bold red" if dup else "green"),
        )
        self._status(status)
        board = self.query_one("#cmp-scoreboard", DataTable)
        board.display = True
        self.query_one("#cmp-ledger").display = True
        board.clear(columns=True)
        for name in result.setups:
            board.add_column(Text(name, style="bold", justify="right"), key=name, width=SETUP_COLUMN_W)
        runs = result.runs
        board.add_row(
            *(Text(runs[n].setup.producer_text(), style="dim", justify="right") for n in result.setups),
            key="producer",
            label=Text("producer", style="dim"),
            height=None,  # wrapped in the setup's column
        )
        board.add_row(
            *(Text(runs[n].setup.copier_text(), style="dim", justify="right") for n in result.setups),
            key="copier",
            label=Text("copier", style="dim"),
            height=None,
        )
        columns = [scoreboard_cells(result.scoreboard(n)) for n in result.setups]
        for r, (key, label, _attr, problem) in enumerate(SCOREBOARD_ROWS):
            board.add_row(
                *(col[r] for col in columns), key=key, label=Text(label, style="bold" if problem else "")
            )
        self.setup = None
        self.select_setup(result.setups[0])
        if self.focused is None or isinstance(
            self.focused, Button
        ):  # from the Run button straight to the records
            self.call_after_refresh(self.query_one("#cmp-records", DataTable).focus)

    def select_setup(self, name: str) -> None:
        if self.result is None or name not in self.result.runs or name == self.setup:
            return
        self.setup = name
        board = self.query_one("#cmp-scoreboard", DataTable)
        col = self.result.setups.index(name)
        if board.cursor_column != col:
            board.move_cursor(column=col, animate=False)
        box = self.query_one("#cmp-records-box")
        box.border_title = f"Fate ledger: {name}"
        self._fill_records()

    @on(DataTable.ColumnHighlighted, "#cmp-scoreboard")
    def _column_highlighted(self, event: DataTable.ColumnHighlighted) -> None:
        if self.result is not None and event.column_key.value in self.result.runs:
            self.select_setup(str(event.column_key.value))

    @on(DataTable.HeaderSelected, "#cmp-scoreboard")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        if self.result is not None and event.column_key.value in self.result.runs:
            self.select_setup(str(event.column_key.value))

    def visible_fates(self) -> list[RecordFate]:
        if self.result is None or self.setup is None:
            return []
        fates = self.result.ledger(self.setup)
        return [f for f in fates if f.outcome != "delivered"] if self.problems_only else list(fates)

    def _fill_records(self) -> None:
        table = self.query_one("#cmp-records", DataTable)
        table.clear()
        fates = self.visible_fates()
        self._rows = [f.index for f in fates]
        for f in fates:
            style = _OUTCOME_STYLE.get(f.outcome, "")
            outcome = _OUTCOME_MARK[f.outcome] if f.outcome != "duplicated" else f"⧉ dup ×{f.copies}"
            table.add_row(
                Text(f.value, style="bold"),
                Text(f.key),
                Text("?" if f.partition is None else f"in-{f.partition}"),
                Text(outcome, style=style),
                key=str(f.index),
            )
        if fates:
            keep = self.record if self.record in self._rows else fates[0].index
            table.move_cursor(row=self._rows.index(keep), animate=False)
            self.show_fate(keep)
        else:
            self.record = None
            empty = (
                Text(
                    f"{self.setup}: every record reached the sink exactly once. Press p to list them all.",
                    style="green",
                )
                if self.result is not None
                else render_fate(None)
            )
            self.query_one("#cmp-fate", Static).update(empty)

    def show_fate(self, index: int) -> None:
        if self.result is None or self.setup is None:
            return
        self.record = index
        fate = self.result.ledger(self.setup)[index]
        self.query_one("#cmp-fate", Static).update(render_fate(fate, self.setup))

    @on(DataTable.RowHighlighted, "#cmp-records")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None and self.result is not None:
            self.show_fate(int(event.row_key.value))

    # -- actions --------------------------------------------------------------------------------------
    def action_toggle_problems(self) -> None:
        self.query_one("#cmp-problems", Checkbox).value = not self.problems_only

    def _step_setup(self, delta: int) -> None:
        if self.result is None:
            return
        names = self.result.setups
        i = names.index(self.setup) if self.setup in names else 0
        self.select_setup(names[(i + delta) % len(names)])

    def action_prev_setup(self) -> None:
        self._step_setup(-1)

    def action_next_setup(self) -> None:
        self._step_setup(1)

    def action_close(self) -> None:
        self.dismiss(None)
