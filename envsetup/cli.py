"""The command line: parses arguments, calls one plain function, renders its result.

This is the only module that imports click.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import click

from envsetup import __version__
from envsetup.errors import EXIT_CRASHED, EXIT_INTERRUPTED, EnvsetupError, UsageError

if TYPE_CHECKING:
    from envsetup.stepping import Mode


def _epilog(examples: str, codes: str) -> str:
    """A command's --help epilog: examples to copy, then its own exit codes."""
    return f"\b\nExamples:\n{examples}\n\n\b\nExit codes:\n{codes}"


EPILOG = _epilog(
    "  envsetup list\n"
    "  sudo envsetup apply ubuntu-java17\n"
    "  envsetup apply ubuntu-java17 -t dev@build-1 --set headless=true\n"
    "  envsetup doctor",
    "  0  ok; 1  a step or check failed; 2  invalid input or platform;\n"
    "  3  target unreachable; 4  envsetup itself failed; 130  interrupted\n"
    "  (each command's --help lists its own)",
)
_RUN_CODES = """\
  0  every step and check ok (pending allowed)
  1  a step or a verify check failed
  2  invalid input (usage, recipe, variable) or unsupported platform; nothing changed
  3  target unreachable or authentication failed
  4  envsetup itself failed (an unexpected error; -v shows the traceback)
  130 interrupted"""
_READ_CODES = """\
  0  every check ok (pending allowed)
  1  a check failed
  2  invalid input (usage, recipe, variable) or unsupported platform
  3  target unreachable or authentication failed
  4  envsetup itself failed (-v shows the traceback)
  130 interrupted"""
_LIST_CODES = """\
  0  listed
  2  a recipe could not be read
  4  envsetup itself failed (-v shows the traceback)"""
_DOCTOR_CODES = """\
  0  nothing failed (warnings allowed, unless --strict)
  1  a check failed (or, with --strict, warned); --explain: no known symptom matched
  2  invalid input
  3  target unreachable or authentication failed
  4  envsetup itself failed (-v shows the traceback)"""
TARGETS_HELP = (
    "Where to run: @local (default), @chroot/PATH, @docker/NAME, @vagrant/NAME or "
    "[ssh://][USER@]HOST[:PORT] (~/.ssh/config aliases work). Repeatable."
)


def _fail(exc: EnvsetupError, as_json: bool) -> NoReturn:
    if as_json:
        from envsetup.output import to_json

        click.echo(
            to_json({"ok": False, "exit_code": exc.exit_code, "error": exc.message, "fix": exc.fix})
        )
    click.secho(f"envsetup: error: {exc.message}", fg="red", err=True)
    if exc.fix:
        click.echo(f"Fix: {exc.fix}", err=True)
    sys.exit(exc.exit_code)


def _interrupted_message() -> str:
    """What an abort left: apt's state where an install was running, else a general word."""
    start = "\r\x1b[2K" if sys.stderr.isatty() else "\n"  # over the terminal's "^C"
    apt = sys.modules.get("envsetup.apt_progress")
    left = {name: reader.left_behind() for name, reader in getattr(apt, "ACTIVE", {}).items()}
    lines = [f"envsetup: interrupted on {name}: {text}" for name, text in left.items() if text]
    if not lines:
        lines = [
            "envsetup: interrupted; the step that was running may be incomplete. "
            "Run the same command again to finish."
        ]
    return start + "\n".join(lines)


@contextmanager
def errors_handled(as_json: bool = False, verbose: bool = False) -> Iterator[None]:
    """Turn envsetup errors into one message and their exit code; Ctrl-C into 130."""
    try:
        yield
    except EnvsetupError as exc:
        _fail(exc, as_json)
    except KeyboardInterrupt:
        click.echo(_interrupted_message(), err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.exceptions.Exit:
        raise
    except Exception as exc:  # an unexpected error: a bug, with its own exit code
        import traceback

        import pyinfra

        context = click.get_current_context(silent=True)
        verbose = verbose or bool(context and (context.find_root().obj or {}).get("verbose"))
        if verbose:
            traceback.print_exc()
        message = f"unexpected error: {type(exc).__name__}: {exc}"
        if as_json:
            from envsetup.output import to_json

            click.echo(
                to_json({"ok": False, "exit_code": EXIT_CRASHED, "error": message, "fix": None})
            )
        hint = "the traceback is above" if verbose else "rerun with -v for the traceback"
        click.secho(
            f"envsetup: {message}\n"
            f"(envsetup {__version__}, pyinfra {pyinfra.__version__}, Python "
            f"{sys.version.split()[0]}; {hint}; this is a bug in envsetup: please report it)",
            fg="red",
            err=True,
        )
        sys.exit(EXIT_CRASHED)


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="envsetup")
@click.option("-v", "--verbose", is_flag=True, help="Show pyinfra's own log and tracebacks.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour: auto is on for a terminal, off with NO_COLOR set, on with FORCE_COLOR.",
)
@click.pass_context
def main(ctx: click.Context, verbose: bool, color: str) -> None:
    """Set up developer machines from declarative recipes, and prove each step worked.

    Recipes are applied idempotently through pyinfra; every step is followed by
    verify checks that run on the target and report ok, failed or pending.
    """
    ctx.obj = {"verbose": verbose, "color": color}


def _screen(ctx: click.Context, stream: Any = None) -> Any:
    from envsetup.output import Screen

    return Screen.of(stream or sys.stdout, (ctx.find_root().obj or {}).get("color", "auto"))


@main.command(
    "list",
    epilog=_epilog(
        "  envsetup list\n  ENVSETUP_RECIPES=~/my-recipes envsetup list --json", _LIST_CODES
    ),
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def list_command(as_json: bool) -> None:
    """List the recipes envsetup knows (built-in and $ENVSETUP_RECIPES)."""
    from envsetup.commands.recipes import list_recipes
    from envsetup.output import to_json

    with errors_handled(as_json):
        entries = list_recipes()
    if as_json:
        click.echo(to_json(entries))
        return
    width = max((len(e["name"]) for e in entries), default=4)
    for entry in entries:
        text = entry["summary"] if not entry["error"] else f"(broken: {entry['error']})"
        click.echo(f"{entry['name']:<{width}}  {text}")


@main.command(
    "show",
    epilog=_epilog(
        "  envsetup show ubuntu-java17\n  envsetup show ubuntu-java17 --json", _LIST_CODES
    ),
)
@click.argument("recipe")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def show_command(recipe: str, as_json: bool) -> None:
    """Show a recipe: platforms, variables and steps with their checks."""
    from envsetup.commands.author import readable, show_text
    from envsetup.commands.recipes import describe_recipe, show_recipe
    from envsetup.output import to_json

    with errors_handled(as_json):
        loaded = show_recipe(recipe)
        data = {**describe_recipe(loaded), "readable": readable(loaded)}
    click.echo(to_json(data) if as_json else show_text(data))


def run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("recipes", nargs=-1, required=True),
        click.option("-t", "--target", "targets", multiple=True, help=TARGETS_HELP),
        click.option("-i", "--inventory", help="A pyinfra inventory file, for several hosts."),
        click.option(
            "--set",
            "assignments",
            multiple=True,
            metavar="KEY=VALUE",
            help="Set a recipe variable (see `envsetup show RECIPE`). Repeatable.",
        ),
        click.option(
            "--json",
            "as_json",
            is_flag=True,
            help="Print one JSON document on stdout, no progress.",
        ),
        click.option(
            "--diff/--no-diff",
            "diff",
            default=None,
            help="Show what changes in each edited file (default: on a terminal).",
        ),
        click.option(
            "--junit",
            metavar="FILE",
            help="Also write JUnit XML: a test case per step and per verify check.",
        ),
        click.option(
            "--assume-wsl",
            is_flag=True,
            help="Treat the target as a WSL 2 root filesystem (to build WSL images offline).",
        ),
        click.option(
            "--sudo-password-stdin",
            is_flag=True,
            help="Read the sudo password from the first line of stdin.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run(mode: Mode, ctx: click.Context, **kw: Any) -> None:
    import atexit
    import gc

    from envsetup import concurrency

    # the last thing at exit: spare the final garbage collection the walk over everything
    # pyinfra, paramiko and gevent allocated (~35 ms); what it would free, the process's
    # end frees anyway (Python does not promise to finalize objects alive at exit)
    atexit.register(gc.freeze)

    as_json, verbose = kw["as_json"], ctx.obj["verbose"]
    live = not as_json and sys.stderr.isatty()
    screen = _screen(ctx)
    if concurrency.needed(len(kw["targets"]), kw["inventory"] is not None, live):
        concurrency.patch_standard_library()  # before the engine imports pyinfra

    password = None
    if kw["sudo_password_stdin"]:
        password = _read_password_stdin()
    ask = _ask_password if sys.stdin.isatty() and password is None else None

    gc.disable()  # importing pyinfra allocates much, and nothing of it is garbage
    from envsetup.commands.ahead import connect_ahead

    # a remembered target's SSH handshake goes on while the rest is imported and loaded
    ahead = connect_ahead(
        kw["targets"], kw["inventory"], password, ask, verbose, read_only=mode == "verify"
    )
    from envsetup.commands.run import build_request, execute
    from envsetup.output import LineProgress, TerminalProgress, render_report, to_json

    gc.freeze()  # what was just imported lives until exit: later collections skip it
    gc.enable()

    progress: Any = None
    names = _typed_names(kw["targets"])
    if not as_json:
        read_only = mode == "verify"
        progress = (
            TerminalProgress(names=names, screen=_screen(ctx, sys.stderr), read_only=read_only)
            if live
            else LineProgress(names=names, read_only=read_only)
        )
    with errors_handled(as_json, verbose):
        try:
            request = build_request(
                mode,
                kw["recipes"],
                kw["targets"],
                kw["inventory"],
                kw["assignments"],
                password,
                ask,
                verbose,
                kw["assume_wsl"],
                kw.get("purge", False),
                ahead,
            )
        except BaseException:
            if ahead:
                ahead.engine.close()  # nothing ran there; a handshake still going is left
            raise
        try:
            with stop_on_interrupt(request.interrupt):
                report = execute(mode, request, progress)
        finally:
            if isinstance(progress, TerminalProgress):
                progress.close()
    if as_json:
        click.echo(to_json(report.as_json()))
    else:
        diffs = kw["diff"] if kw["diff"] is not None else mode == "plan" or sys.stdout.isatty()
        click.echo(render_report(report, screen, diffs))
        _host_keys_note()
    _ci_reports(report, kw["junit"])
    if kw.get("restart"):
        _restart(request, report)
    sys.exit(report.exit_code)


def _typed_names(targets: tuple[str, ...]) -> dict[str, str]:
    """pyinfra's name of each target, to the text typed for it (user and port included)."""
    from envsetup.errors import EnvsetupError as Invalid
    from envsetup.targets import parse_target

    names = {}
    for text in targets:
        try:
            spec = parse_target(text)
        except Invalid:
            continue  # reported when the request is built
        names[spec.name] = text.removeprefix("ssh://")
    return names


def _host_keys_note() -> None:
    """Say which new host keys were accepted (StrictHostKeyChecking accept-new)."""
    from envsetup.engine.failures import HOST_KEYS

    for host in HOST_KEYS.hosts:
        click.echo(
            f"Note: accepted the new host key of {host} and added it to ~/.ssh/known_hosts "
            f"(ssh-keygen -F '{host}' shows it)",
            err=True,
        )


def _ci_reports(report: Any, junit: str | None) -> None:
    """JUnit XML when asked; the GitHub Actions step summary when running there."""
    from envsetup.ci_reports import step_summary, write_junit

    if junit:
        write_junit(report, junit)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as stream:
            stream.write(step_summary(report))


RESTART_BY_HAND = 75  # EX_TEMPFAIL: a restart command that cannot restart from here


def _restart(request: Any, report: Any) -> None:
    """Run what pending checks wait for, as the very last action, saying so first."""
    from envsetup.commands.run import restart

    pending = [(t.target, r) for t in report.targets for r in t.restarts]
    if not pending:
        click.echo("--restart: nothing is pending a restart.", err=True)
        return
    for target, item in pending:
        click.echo(f"Restarting {target} for {item['recipe']}: {item['message'].strip()}", err=True)
        command = item["run"].strip()
        if "\n" in command:  # a script (restart.run in the recipe file)
            command = f"the restart script of {item['recipe']} (restart.run in its recipe)"
        click.echo(f"  running: {command}", err=True)
    with errors_handled():
        for target, results in restart(request, report).items():
            for status, output in results:
                if status == RESTART_BY_HAND:  # it could not restart, and says what to run
                    click.echo(f"{target}: {output.strip()}", err=True)
                elif status != 0:
                    click.echo(
                        f"{target}: the restart command failed ({status}): {output.strip()[-300:]}",
                        err=True,
                    )


@contextmanager
def stop_on_interrupt(flag: Any) -> Iterator[None]:
    """First Ctrl-C: finish the running step, then stop; a second one aborts at once."""
    import signal

    import gevent

    main_greenlet = gevent.getcurrent()

    def on_interrupt(*_: Any) -> None:
        if flag.is_set():  # the second: abort now, in the main greenlet, where it waits
            main_greenlet.throw(KeyboardInterrupt)
            return
        flag.set()
        click.echo(
            "\nenvsetup: stopping after the running step (Ctrl-C again to abort now)", err=True
        )

    # one gevent handler for both: cancelling it and installing Python's own in between
    # raced with libev, which resets the signal to its default when it stops watching
    handler = gevent.signal_handler(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        handler.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _read_password_stdin() -> str:
    """The first line of stdin; typed on a terminal, it is not echoed."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("sudo password: ")
    return sys.stdin.readline().rstrip("\n")


def _ask_password(prompt: str) -> str | None:
    import getpass

    try:
        return getpass.getpass(prompt)
    except (EOFError, KeyboardInterrupt):
        return None


@main.command(
    "plan",
    epilog=_epilog(
        "  envsetup plan ubuntu-java17\n"
        "  envsetup plan ubuntu-java17 -t dev@build-1:2222 --set headless=true\n"
        "  envsetup plan hf-transformers --json > plan.json",
        _READ_CODES,
    ),
)
@run_options
@click.pass_context
def plan_command(ctx: click.Context, /, **kw: Any) -> None:
    """Say what apply would change, with a diff for edited files. Changes nothing."""
    _run("plan", ctx, **kw)


@main.command(
    "apply",
    epilog=_epilog(
        "  sudo envsetup apply ubuntu-java17\n"
        "  envsetup apply ubuntu-java17 -t dev@build-1 -t dev@build-2\n"
        "  envsetup apply ubuntu-java17 --set headless=true --no-diff\n"
        "  envsetup apply wsl-systemd --restart\n"
        '  echo "$PASS" | envsetup apply ubuntu-java17 -t dev@build-1 --sudo-password-stdin',
        _RUN_CODES,
    ),
)
@run_options
@click.pass_context
@click.option(
    "--restart",
    is_flag=True,
    help="Last of all, run the restart that pending checks wait for (e.g. WSL's terminate).",
)
def apply_command(ctx: click.Context, /, **kw: Any) -> None:
    """Apply recipes: check the platform, then run each step and its verify checks.

    A second apply on a converged target changes nothing and says so.
    """
    _run("apply", ctx, **kw)


@main.command(
    "verify",
    epilog=_epilog(
        "  envsetup verify ubuntu-java17\n"
        "  envsetup verify ubuntu-java17 -t dev@build-1 --junit verify.xml",
        _READ_CODES,
    ),
)
@run_options
@click.pass_context
def verify_command(ctx: click.Context, /, **kw: Any) -> None:
    """Run only the verify checks, read-only."""
    _run("verify", ctx, **kw)


@main.command(
    "remove",
    epilog=_epilog(
        "  sudo envsetup remove ubuntu-java17\n"
        "  envsetup remove ollama-llama3 -t dev@gpu-1 --purge",
        _RUN_CODES,
    ),
)
@run_options
@click.pass_context
@click.option("--purge", is_flag=True, help="Also delete data the recipe keeps (e.g. caches).")
def remove_command(ctx: click.Context, /, **kw: Any) -> None:
    """Undo a recipe by running its `remove` section."""
    _run("remove", ctx, **kw)


@main.command(
    "doctor",
    epilog=_epilog(
        "  envsetup doctor\n"
        "  envsetup doctor -t dev@build-1 --json\n"
        "  envsetup doctor --explain 'E: Unable to locate package openjdk-17-jdk'\n"
        "  apt-get install foo 2>&1 | envsetup doctor --explain -\n"
        "  envsetup doctor --fix",
        _DOCTOR_CODES,
    ),
)
@click.option("-t", "--target", help="Diagnose this target instead of this machine (read-only).")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON document.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option(
    "--explain",
    metavar="TEXT",
    help="Name the cause and the fix of an error message ('-' reads it from stdin).",
)
@click.option(
    "--fix",
    "apply_fixes",
    is_flag=True,
    help="Apply the recipes that failed checks name, then check again.",
)
@click.option("--yes", is_flag=True, help="With --fix: do not ask first.")
@click.pass_context
def doctor_command(
    ctx: click.Context,
    /,
    target: str | None,
    as_json: bool,
    strict: bool,
    explain: str | None,
    apply_fixes: bool,
    yes: bool,
) -> None:
    """Diagnose a developer machine: platform, WSL, Java, Python, Ollama, applied recipes.

    One line per check (✓ ok, ! warning, ✗ problem) with the exact fix. Exit 0
    when nothing failed, 1 otherwise; warnings fail only with --strict.
    """
    from envsetup.commands.doctor import doctor
    from envsetup.output import render_doctor, render_symptoms, to_json

    with errors_handled(as_json, ctx.obj["verbose"]):
        if explain is not None:
            from envsetup.doctor.symptoms import explain as match

            text = sys.stdin.read() if explain == "-" else explain
            found = match(text, _explain_context(target))
            if as_json:
                click.echo(
                    to_json(
                        {
                            "symptoms": [
                                {"id": s.id, "cause": s.cause_for(text), "fix": s.fix_for(text)}
                                for s in found
                            ]
                        }
                    )
                )
            else:
                click.echo(render_symptoms(text, found, _screen(ctx)))
            sys.exit(0 if found else 1)
        report = doctor(target)
        if apply_fixes and report.fixes():
            _apply_fixes(report.fixes(), target, yes)
            report = doctor(target)
    click.echo(
        to_json(report.as_json()) if as_json else render_doctor(report, _screen(ctx), target)
    )
    sys.exit(report.exit_code(strict))


def _explain_context(target: str | None) -> Any:
    """This machine's facts for --explain (None for another target: every cause counts)."""
    if target not in (None, "@local"):
        return None
    from envsetup.doctor.machine import LocalMachine
    from envsetup.doctor.symptoms import context_of

    return context_of(LocalMachine())


def _apply_fixes(fixes: list[str], target: str | None, yes: bool) -> None:
    import shlex
    import subprocess

    click.echo("The failed checks are fixed by:", err=True)
    for fix in fixes:
        click.echo(f"  {fix}" + (f" -t {target}" if target else ""), err=True)
    if not yes and not click.confirm("Apply them now?", err=True):
        return
    for fix in sorted(fixes, key=lambda f: "--restart" in f):  # a restart goes last
        argv = shlex.split(fix)[1:] + (["-t", target] if target else [])
        subprocess.run([sys.executable, "-m", "envsetup", *argv], check=False)


@main.command("kinds")
@click.argument("kind", required=False)
@click.option("--markdown", is_flag=True, help="Print the whole reference as Markdown.")
def kinds_command(kind: str | None, markdown: bool) -> None:
    """The recipe reference: every step and check kind, or one KIND's keys (`recipe`: the file)."""
    from envsetup import reference

    if markdown:
        click.echo(reference.markdown(), nl=False)
        return
    text = reference.terminal(kind)
    if not text:
        names = sorted({doc.name for doc in reference.kind_docs()} | {"recipe"})
        with errors_handled():
            raise UsageError(f"no kind named '{kind}'", fix=f"one of: {', '.join(names)}")
    click.echo(text)


@main.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of recipe files (for editors with the YAML language server)."""
    from envsetup.recipe_schema import schema_text

    click.echo(schema_text(), nl=False)


@main.command("new")
@click.argument("name")
@click.option(
    "-C", "--directory", default=".", show_default=True, help="Write NAME/recipe.yaml under this."
)
def new_command(name: str, directory: str) -> None:
    """Write a commented skeleton recipe NAME/recipe.yaml that validates."""
    from pathlib import Path

    from envsetup.commands.author import new_recipe
    from envsetup.paths import display_path

    with errors_handled():
        parent = Path(directory)
        schema = parent / name / "recipe.schema.json"
        path = new_recipe(name, parent, schema.name)
        from envsetup.recipe_schema import schema_text

        schema.write_text(schema_text())
    click.echo(f"wrote {display_path(path)} (and {schema.name} beside it, for editor completion)")
    click.echo(f"next: edit it, then `envsetup test {display_path(path.parent)}`")


@main.command("test")
@click.argument("recipe")
@click.option(
    "--on",
    "platforms",
    multiple=True,
    metavar="PLATFORM",
    help="debian-12 (default), debian-13, ubuntu-22.04 or ubuntu-24.04. Repeatable.",
)
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Set a variable.")
@click.option("-t", "--target", help="Test on this target instead of a throwaway root.")
@click.option("--destroy-ok", is_flag=True, help="With -t: the target may be left broken.")
@click.option("--mirror", metavar="URL", help="The archive to build roots from (a local mirror).")
@click.option("--assume-wsl", is_flag=True, help="Treat the root as a WSL 2 root filesystem.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--junit", metavar="FILE", help="Also write JUnit XML: a test case per phase.")
def test_command(
    recipe: str,
    platforms: tuple[str, ...],
    assignments: tuple[str, ...],
    target: str | None,
    destroy_ok: bool,
    mirror: str | None,
    assume_wsl: bool,
    as_json: bool,
    junit: str | None,
) -> None:
    """Prove RECIPE in a throwaway Debian or Ubuntu root: platform, apply, verify,
    apply again (must change nothing), remove; the root is always unmounted and deleted.

    Needs root and debootstrap; the base root of each platform is built once and cached
    in /var/cache/envsetup/test-roots. Exit 0 when every phase passed, 1 when one failed,
    2 for invalid input or a machine that cannot build roots (the message says what to
    install).
    """
    from envsetup.commands import test as testing
    from envsetup.output import to_json

    request = testing.TestRequest(
        recipe, platforms or ("debian-12",), assignments, target, mirror, assume_wsl
    )

    def progress(where: str, phase: testing.Phase) -> None:
        click.echo(f"[{where}]{testing.phase_line(phase)}", err=True)

    with errors_handled(as_json):
        testing.check_request(request, destroy_ok)
        report = testing.test_recipe(request, None if as_json else progress)
    if junit:
        with open(junit, "w", encoding="utf-8") as file:
            file.write(testing.junit(report))
    click.echo(to_json(report.as_json()) if as_json else testing.render_text(report))
    sys.exit(report.exit_code)
