"""The classroom's sub-commands: ``serve``, ``record``, ``play``, ``screenshot``, ``export-lesson``."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

__all__ = ["COMMANDS", "add_parsers", "run"]

COMMANDS = ("serve", "record", "play", "screenshot", "export-lesson")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not between 0 and 65535")
    return port


def _size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{2,3})x(\d{2,3})", text.strip().lower())
    if not m or not (40 <= int(m.group(1)) <= 400 and 12 <= int(m.group(2)) <= 200):
        raise argparse.ArgumentTypeError(f"'{text}' is not a size like 120x40 (40x12 to 400x200)")
    return int(m.group(1)), int(m.group(2))


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 0 <= seed <= 2**63 - 1:
        raise argparse.ArgumentTypeError("a seed is between 0 and 2^63-1")
    return seed


def _brokers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 1 <= n <= 64:
        raise argparse.ArgumentTypeError(f"{n} brokers: between 1 and 64")
    return n


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser(
        "serve",
        help="the lab in a web browser; each browser tab gets a lab process of its own (no authentication)",
        description="Serve the lab in a web browser with textual-serve. Each browser connection (each tab) "
        "starts a lab process of its own with the options given here, so one URL per exercise gives every "
        "student their own cluster. There is NO authentication: anyone who can reach the address gets a "
        "lab. The server listens on this machine only unless --public is given.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine)"
    )
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0: any free port)")
    serve.add_argument(
        "--public",
        action="store_true",
        help="allow a --host other machines can reach (anyone on the network gets a lab: no authentication)",
    )
    what = serve.add_mutually_exclusive_group()
    what.add_argument("--lesson", metavar="ID", help="open this lesson (an id, or a lesson file)")
    what.add_argument("--scenario", metavar="FILE", help="play this scenario file")
    serve.add_argument("--dir", metavar="PATH", help="lessons folder (for --lesson, and the lesson browser)")
    serve.add_argument("--seed", type=_seed, default=42, help="seed of the sandbox (default 42)")
    serve.add_argument("--brokers", type=_brokers, default=3, help="brokers of the sandbox (default 3)")
    serve.add_argument("--present", action="store_true", help="open in presenter mode (high contrast)")
    serve.add_argument("--title", help="the browser tab's title (default: kafkalab)")

    record = sub.add_parser(
        "record",
        help="the sandbox, saved as a scenario file when you quit ('note TEXT' adds captions)",
    )
    record.add_argument("file", help="the scenario file to write (.yaml)")
    record.add_argument("--title", help="the scenario's title (default: from the file name)")
    record.add_argument("--seed", type=_seed, default=42, help="seed (default 42)")
    record.add_argument("--brokers", type=_brokers, default=3, help="brokers (default 3)")
    record.add_argument("--force", action="store_true", help="replace the file if it exists")
    record.add_argument("--present", action="store_true", help="open in presenter mode")

    play = sub.add_parser("play", help="play a scenario file stop by stop (n: next stop, Space: play)")
    play.add_argument("file", help="a scenario file (kafkalab record, or written by hand: docs/scenarios.md)")
    play.add_argument("--present", action="store_true", help="open in presenter mode (for a projector)")
    play.add_argument(
        "--headless",
        action="store_true",
        help="no screen: print every stop's caption and the run's trace hash",
    )
    play.add_argument("--check", action="store_true", help="only validate the file (file:line: problem)")

    shot = sub.add_parser(
        "screenshot",
        help="save an SVG picture of a lesson step or a scenario stop, headless (for course material)",
    )
    shot.add_argument("file", help="the SVG file to write")
    src = shot.add_mutually_exclusive_group()
    src.add_argument("--lesson", metavar="ID", help="a lesson (an id, or a lesson file)")
    src.add_argument("--scenario", metavar="FILE", help="a scenario file")
    shot.add_argument("--step", type=int, default=1, help="the lesson step (1 = the first; default 1)")
    shot.add_argument("--solved", action="store_true", help="after running the step's solution")
    shot.add_argument("--stop", type=int, default=0, help="the scenario stop (0 = before the first)")
    shot.add_argument("--dir", metavar="PATH", help="lessons folder for --lesson ID")
    shot.add_argument("--size", type=_size, default=(120, 40), help="terminal size (default 120x40)")
    shot.add_argument("--present", action="store_true", help="in presenter mode")
    shot.add_argument("--seed", type=_seed, default=42, help="seed of the sandbox (default 42)")

    export = sub.add_parser(
        "export-lesson",
        help="a lesson skeleton from a scenario file: steps from its actions, goals from what happened",
    )
    export.add_argument("scenario", help="a scenario file (kafkalab record)")
    export.add_argument(
        "lesson", help="the lesson file to write; its name is the lesson id (e.g. my-lesson.yaml)"
    )
    export.add_argument("--force", action="store_true", help="replace the lesson file if it exists")


def _load_scenario(path: str) -> Any:
    from .scenario import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as e:
        for issue in e.issues:
            print(issue, file=sys.stderr)
        return None


def _load_lesson(ref: str, directory: str | None) -> Any:
    from ..lessons import LessonError, load_lesson

    try:
        return load_lesson(ref, Path(directory) if directory else None)
    except LessonError as e:
        for issue in e.issues:
            print(issue, file=sys.stderr)
        return None


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    return int(
        {
            "serve": _serve,
            "record": _record,
            "play": _play,
            "screenshot": _screenshot,
            "export-lesson": _export,
        }[args.command](args, parser)
    )


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .serve import is_local_host, serve

    if not is_local_host(args.host) and not args.public:
        parser.error(
            f"--host {args.host} lets other machines in, and the lab has no authentication: add --public "
            "if that is what you want"
        )
    argv: list[str]
    if args.lesson:
        if args.present:
            parser.error("--present shows no lesson pane: leave it out for a lesson")
        lesson = _load_lesson(args.lesson, args.dir)
        if lesson is None:
            return 2
        argv = ["lesson", str(lesson.path.resolve()) if lesson.path else args.lesson]
        what = f"lesson {lesson.id} ({lesson.title})"
    elif args.scenario:
        sc = _load_scenario(args.scenario)
        if sc is None:
            return 2
        argv = ["play", os.path.abspath(args.scenario)]
        what = f"scenario '{sc.title}'"
    else:
        argv = ["sandbox", "--seed", str(args.seed), "--brokers", str(args.brokers)]
        if args.dir:
            argv += ["--lessons-dir", os.path.abspath(args.dir)]
        what = f"the sandbox (seed {args.seed}, {args.brokers} brokers)"
    if args.present and not args.lesson:
        argv.append("--present")
    public = "" if is_local_host(args.host) else " (PUBLIC: anyone on the network can open it)"
    lines = [
        f"kafkalab serve: {what} at {{url}}{public}",
        "each browser tab starts a lab process of its own; closing the tab stops it",
        "no authentication: whoever reaches this address gets a lab. Ctrl-C stops the server",
    ]
    if args.present:
        lines.append("for a projector, add ?fontsize=24 to the address (larger letters)")
    return serve(argv, args.host, args.port, args.title or "kafkalab", lines)


def _record(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    path = Path(args.file)
    if path.suffix not in (".yaml", ".yml"):
        parser.error(f"a scenario file ends in .yaml: {args.file}")
    if path.exists() and not args.force:
        parser.error(f"{args.file} exists: add --force to replace it")
    if not path.parent.is_dir():
        parser.error(f"{path.parent} is not a directory")
    from ..ui.app import run_record_app

    return run_record_app(path, args.brokers, args.seed, title=args.title, present=args.present)


def _play(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    sc = _load_scenario(args.file)
    if sc is None:
        return 2
    if args.check:
        print(f"{args.file}: {len(sc.entries)} actions, {sc.stops} stops: fine", file=sys.stderr)
        return 0
    if args.headless:
        from .player import ScenarioPlayer

        player = ScenarioPlayer(sc)
        try:
            print(f"scenario: {sc.title} ({len(sc.entries)} actions, {sc.stops} stops)")

            def echo(report: Any) -> None:
                print(report.title)
                for line in report.lines:
                    print(f"  {line}")

            player.play_to_end(echo)
            if player.divergence:
                print(f"note: {player.divergence}")
            print(f"trace hash {player.session.cluster.trace_hash()} at event {player.session.events}")
        finally:
            player.close()
        return 0
    from ..ui.app import run_play_app

    return run_play_app(sc, present=args.present)


def _screenshot(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    out = Path(args.file)
    if out.suffix != ".svg":
        parser.error(f"the picture is an SVG file: {args.file}")
    if not out.parent.is_dir():
        parser.error(f"{out.parent} is not a directory")
    options: dict[str, Any] = {"present": args.present, "seed": args.seed}
    if args.lesson:
        lesson = _load_lesson(args.lesson, args.dir)
        if lesson is None:
            return 2
        if not 1 <= args.step <= len(lesson.steps):
            parser.error(f"--step {args.step}: lesson {lesson.id} has steps 1 to {len(lesson.steps)}")
        options.update(lesson=lesson, step=args.step, solved=args.solved)
    elif args.scenario:
        sc = _load_scenario(args.scenario)
        if sc is None:
            return 2
        if not 0 <= args.stop <= sc.stops + 1:
            parser.error(f"--stop {args.stop}: the scenario has stops 0 to {sc.stops + 1} (the end)")
        options.update(scenario=sc, stop=args.stop)
    from .screenshot import take_screenshot

    path = take_screenshot(out, args.size, **options)
    print(f"saved {path} ({args.size[0]}x{args.size[1]})")
    return 0


def _export(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .builder import ExportError, export_lesson

    out = Path(args.lesson)
    if out.exists() and not args.force:
        parser.error(f"{args.lesson} exists: add --force to replace it")
    sc = _load_scenario(args.scenario)
    if sc is None:
        return 2
    try:
        path, report = export_lesson(sc, out, progress=lambda text: print(text, flush=True))
    except ExportError as e:
        print(f"kafkalab export-lesson: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"kafkalab export-lesson: cannot write {out}: {e.strerror or e}", file=sys.stderr)
        return 1
    print(
        f"wrote {path}: {report.steps} steps, {report.goals} goals; {report.paths_ok} of {report.paths} paths pass"
    )
    for note in report.notes:
        print(f"note: {note}")
    print(f"fill in the TODOs, then: kafkalab lessons check {path}")
    return 0
