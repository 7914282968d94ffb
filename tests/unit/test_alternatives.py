"""The alternatives step: its arguments, and the .jinfo fact it reads (real output)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from envsetup.kinds import Op, StepContext
from envsetup.ops import JinfoAlternatives
from envsetup.steps.alternatives import Alternatives

CTX = StepContext(Path("."), {})
JINFO = "/usr/lib/jvm/.java-1.17.0-openjdk-amd64.jinfo"


def test_action_takes_links_a_jinfo_or_both() -> None:
    both = Alternatives.action({"links": {"java": "/opt/j/bin/java"}, "jinfo": JINFO}, CTX)
    assert both == Op(
        "envsetup.ops.alternatives", {"links": {"java": "/opt/j/bin/java"}, "jinfo": JINFO}
    )
    assert Alternatives.describe({"links": {"java": "/x"}, "jinfo": JINFO}) == (
        f"every tool listed in {JINFO}, java -> /x"
    )
    with pytest.raises(ValueError, match="give links, jinfo, or both"):
        Alternatives.action({"links": {}}, CTX)
    with pytest.raises(ValueError, match="expected the full path of a .jinfo file"):
        Alternatives.action({"links": {}, "jinfo": "java-17.jinfo"}, CTX)
    with pytest.raises(ValueError, match="need a name and a full path"):
        Alternatives.action({"links": {"a/b": "/x"}}, CTX)


def test_jinfo_fact_parses_its_own_output() -> None:
    fact = JinfoAlternatives()
    assert fact.process(["absent"]) is None
    output = [
        "java /usr/lib/jvm/java-17-openjdk-amd64/bin/java 1 /usr/lib/jvm/fixture-21/bin/java",
        "jconsole /usr/lib/jvm/java-17-openjdk-amd64/bin/jconsole 0 -",
    ]
    assert fact.process(output) == [
        (
            "java",
            "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
            True,
            "/usr/lib/jvm/fixture-21/bin/java",
        ),
        ("jconsole", "/usr/lib/jvm/java-17-openjdk-amd64/bin/jconsole", False, None),
    ]


def test_jinfo_fact_command_on_a_written_jinfo(tmp_path: Path) -> None:
    """Run for real: a tool no alternative knows is reported as not registered."""
    jinfo = tmp_path / ".fixture.jinfo"
    jinfo.write_text(
        "name=fixture\nalias=fixture\npriority=1\nsection=main\n\n"
        "hl envsetup-no-such-tool /opt/fixture/bin/tool\nplugin x /opt/fixture/lib/x.so\n"
    )
    fact = JinfoAlternatives()
    done = subprocess.run(["sh", "-c", fact.command(str(jinfo))], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert fact.process(done.stdout.splitlines()) == [
        ("envsetup-no-such-tool", "/opt/fixture/bin/tool", False, None)
    ]
    missing = subprocess.run(
        ["sh", "-c", fact.command(str(tmp_path / "none.jinfo"))], capture_output=True, text=True
    )
    assert fact.process(missing.stdout.splitlines()) is None
