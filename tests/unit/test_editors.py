"""The env-file and wsl.conf editors: the readers' rules, then properties over any bytes.

Every expected reading below follows the upstream source (pam_env.c of Linux-PAM 1.5.2;
configfile.cpp of microsoft/WSL 2.5.8-2.9.4), as cited in the editors' docstrings; the
/etc/environment readings are also proven by real logins in
tests/integration/test_env_file_corpus.py.
"""

from __future__ import annotations

import difflib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envsetup.editors import EditRefused, envfile, ini

JH = "/usr/lib/jvm/java-17-openjdk-amd64"

# -- /etc/environment as pam_env reads it ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('A="q"\n', {"A": "q"}),
        ("B='s'\n", {"B": "s"}),
        ('C="unbal\n', {"C": "unbal"}),
        ('D="a"b\n', {"D": 'a"b'}),
        ('E="x"  \n', {"E": 'x"  '}),
        ('F=a"b"\n', {"F": 'a"b"'}),
        ("G=\"a'\n", {"G": "a"}),
        ('H=""\nI=\nJ="\n', {"H": "", "I": "", "J": ""}),
        ('A="x # y"\n', {"A": "x "}),
        ("A=1\r\n", {"A": "1\r"}),
        ("A=foo \\  \nbar\n", {"A": "foo bar"}),
        ("A=foo\\\n   bar\n", {"A": "foo   bar"}),
        ("A=foo\\\n\n# c\nB=2\n", {"A": "fooB=2"}),
        ("A=foo\\\r\nB=2\n", {"A": "foo\\\r", "B": "2"}),
        ("A=1\nB=2\\", {"A": "1"}),  # a continuation cut off by the end is dropped
        ("export  B=2\nexport\tC=3\nexportD=4\nexport E=5\n", {"exportD": "4", "E": "5"}),
        ("  \tA=1   \n", {"A": "1   "}),
        ("KEY = value\nK-3=x\nK.4=y\n1X=y\nK2= v\n", {"1X": "y", "K2": " v"}),
        ("A=$HOME ${HOME} \\$x\n", {"A": "$HOME ${HOME} \\$x"}),
        ("A=1\nA=2\n", {"A": "2"}),
        ("A=1\nA\nA=3\n", {"A": "3"}),
        ("A=1\nA\n", {}),
        ("A=1\nexport A\n", {}),
        ("=x\n#A=1\n   # B=2\n", {}),
        ("\ufeffA=1\nB=2\n", {"B": "2"}),
        ("A=1\nB=" + "x" * 8189 + "\nC=3\n", {"A": "1"}),  # 8192 bytes: the rest is lost
        ("A=1\nB=" + "x" * 8188 + "\nC=3\n", {"A": "1", "B": "x" * 8188, "C": "3"}),
        ("A=1\nB=x\0y\nC=3\n", {"A": "1"}),
        ("A=1\nB=x\0y", {"A": "1", "B": "x"}),
        ("A=1\fB=2\n", {"A": "1\fB=2"}),  # only LF ends a line
    ],
)
def test_pam_env_reading(text: str, expected: dict[str, str]) -> None:
    assert envfile.environment(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        f'JAVA_HOME="{JH}"\n',
        f"JAVA_HOME={JH}\n",
        f"JAVA_HOME='{JH}'\n",
        f"export JAVA_HOME={JH}\n",
        f'JAVA_HOME="/old"\nJAVA_HOME="{JH}"\n',
        f'PATH="/bin"\r\nJAVA_HOME="{JH}"\n',
    ],
)
def test_env_a_file_the_reader_already_understands_is_left_alone(text: str) -> None:
    assert envfile.set_var(text, "JAVA_HOME", JH) is text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # a setup script's export line: replaced in place
            "export JAVA_HOME=/usr/lib/jvm/java-11-openjdk-amd64\n",
            f'JAVA_HOME="{JH}"\n',
        ),
        (  # CRLF: pam_env would read "...\r"; the new line ends with LF, the others keep CRLF
            'PATH="/usr/bin"\r\nJAVA_HOME="/old"\r\nA=1\r\n',
            f'PATH="/usr/bin"\r\nJAVA_HOME="{JH}"\nA=1\r\n',
        ),
        (  # a bare `export JAVA_HOME` unsets it: that is the line the reader obeys
            'JAVA_HOME="/x"\nexport JAVA_HOME\n',
            f'JAVA_HOME="/x"\nJAVA_HOME="{JH}"\n',
        ),
        (  # the last definition wins: only it is changed
            'JAVA_HOME="/a"\nB=1\nJAVA_HOME="/b"\n',
            f'JAVA_HOME="/a"\nB=1\nJAVA_HOME="{JH}"\n',
        ),
        (  # a comment after the quotes makes the value '...\" ': rewritten, comment dropped
            f'JAVA_HOME="{JH}" # mine\n',
            f'JAVA_HOME="{JH}"\n',
        ),
        (  # ignored lines are not definitions: kept, and the real one appended
            "export\tJAVA_HOME=/y\nJAVA_HOME = /z\n",
            f'export\tJAVA_HOME=/y\nJAVA_HOME = /z\nJAVA_HOME="{JH}"\n',
        ),
        ('PATH="/bin"', f'PATH="/bin"\nJAVA_HOME="{JH}"\n'),
        ("", f'JAVA_HOME="{JH}"\n'),
        (None, f'JAVA_HOME="{JH}"\n'),
        (  # a dangling backslash would swallow an appended line: the line goes before it
            "A=1\nB=2 \\\n",
            f'A=1\nJAVA_HOME="{JH}"\nB=2 \\\n',
        ),
        (  # a line that stops pam_env: the new line goes where pam_env still reads
            "A=1\nB=" + "x" * 9000 + "\n",
            f'A=1\nJAVA_HOME="{JH}"\nB=' + "x" * 9000 + "\n",
        ),
        (  # a form feed is not a line break for pam_env: the comment stays one line
            "# note\fJAVA_HOME=/bad\n",
            f'# note\fJAVA_HOME=/bad\nJAVA_HOME="{JH}"\n',
        ),
    ],
)
def test_env_edits_where_the_reader_sees_it(text: str | None, expected: str) -> None:
    out = envfile.set_var(text, "JAVA_HOME", JH)
    assert out == expected
    assert envfile.get_value(out, "JAVA_HOME") == JH
    assert envfile.set_var(out, "JAVA_HOME", JH) is out


def test_env_a_definition_over_two_lines_is_followed_by_the_new_one() -> None:
    text = 'JAVA_HOME="/a" \\\nB=1\n'  # pam_env reads JAVA_HOME as '/a" B=1'
    assert envfile.set_var(text, "JAVA_HOME", JH) == text + f'JAVA_HOME="{JH}"\n'


def test_env_refusal_names_the_line_to_fix() -> None:
    text = "A=1 \\\n"
    with pytest.raises(EditRefused, match="stops reading at line 1 .*inside a continued line"):
        envfile._first_faithful(text, [[text + "K=1\n"]], "K", "1", envfile.parse(text))


def test_env_refuses_values_pam_env_cannot_read_back() -> None:
    for bad, why in (("a#b", "'#'"), ("a\nb", "a newline"), ("a\rb", "carriage"), ("\0", "NUL")):
        with pytest.raises(ValueError, match=why):
            envfile.set_var("", "K", bad)
    with pytest.raises(ValueError, match="not a valid environment variable name"):
        envfile.set_var("", "K-1", "v")
    assert envfile.get_value(envfile.set_var("", "K", 'a"b"'), "K") == 'a"b"'


def test_env_unset() -> None:
    text = 'A=1\nK="x"\n# K=comment\nK=y\n'
    assert envfile.unset_var(text, "K") == "A=1\n# K=comment\n"
    assert envfile.unset_var(None, "K") is None
    assert envfile.unset_var("A=1\n", "K") == "A=1\n"
    assert envfile.definitions(text, "K") == ["x", "y"]


# -- /etc/wsl.conf as WSL reads it -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "stops"),
    [
        ("[boot]\nsystemd=true\n", {("boot", "systemd"): "true"}, None),
        ("[Boot]\r\nSystemD = TRUE\r\n", {("boot", "systemd"): "TRUE"}, None),
        ('[boot]\nsystemd="true"\n', {("boot", "systemd"): "true"}, None),
        ('[boot]\nsystemd=tr"u"e\n', {("boot", "systemd"): "true"}, None),
        ("[boot] # mine\nsystemd=true # docker\n", {("boot", "systemd"): "true"}, None),
        ("[boot]\nsystemd=true ; x\n", {("boot", "systemd"): "true ; x"}, None),
        ('[a]\nk = "x # y"  \n', {("a", "k"): "x # y"}, None),
        ("[a]\nk = x \\\n  y\n", {("a", "k"): "x   y"}, None),
        ("[a]\nk = a\\tb\n", {("a", "k"): "a\tb"}, None),
        ("[a]\nk = C:\\foo\n", {}, 1),  # an unknown escape is an invalid line
        ("[boot]\nsystemd=yes\nsystemd=true\n", {("boot", "systemd"): "yes"}, None),
        ("[boot]\nsystemd=true\n[boot]\nsystemd=false\n", {("boot", "systemd"): "true"}, None),
        ("systemd=true\n[boot]\n", {}, None),  # a key before any section: ignored
        (";c\n[boot]\nsystemd=true\n", {}, 0),
        ("[ boot ]\nsystemd=true\n", {}, 0),
        ("[boot] ; c\nsystemd=true\n", {}, 0),
        ("[network]\nstatic_ip = 1\n[boot]\nsystemd=true\n", {}, 1),
        ("\ufeff[boot]\nsystemd=true\n", {}, 0),
        ('[a]\nk="open\n', {}, 1),
        ("[a]\nk\n", {}, 1),
        (
            "[boot]\nsystemd=true\rcommand=x\r",
            {("boot", "systemd"): "true", ("boot", "command"): "x"},
            None,
        ),
    ],
)
def test_wsl_reading(text: str, expected: dict[tuple[str, str], str], stops: int | None) -> None:
    assert ini.reading(text) == expected
    assert ini.parse(text).stopped_at == stops


def test_wsl_skipping_reading_goes_on_after_an_invalid_line() -> None:
    text = ";c\n[boot]\nsystemd=true\n"
    assert ini.get_key(text, "boot", "systemd") is None
    assert ini.get_key(text, "boot", "systemd", stop=False) == "true"


@pytest.mark.parametrize(
    "text",
    [
        "[boot]\nsystemd=true\n",
        "[boot]\nsystemd=1\n",
        '[boot]\nsystemd="true"\n',
        "[boot]\nsystemd=true # needed for docker\n",
        "[BOOT]\nSYSTEMD=True\r\n",
    ],
)
def test_wsl_a_file_wsl_already_reads_as_wanted_is_left_alone(text: str) -> None:
    assert ini.set_key(text, "boot", "systemd", "true") is text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[boot]\nsystemd=false   # off\n", "[boot]\nsystemd=true   # off\n"),
        ("[Boot]\r\nSystemD = no\r\n", "[Boot]\r\nSystemD = true\r\n"),
        (  # the first occurrence wins: that one is changed, the later one is left
            "[boot] # c\nsystemd=false\n[boot]\nsystemd=false\n",
            "[boot] # c\nsystemd=true\n[boot]\nsystemd=false\n",
        ),
        (
            "[boot]\ncommand = x\n\n[user]\ndefault = me\n",
            "[boot]\ncommand = x\nsystemd=true\n\n[user]\ndefault = me\n",
        ),
        ("[user]\ndefault = me", "[user]\ndefault = me\n\n[boot]\nsystemd=true\n"),
        (None, "[boot]\nsystemd=true\n"),
        (  # a ';' line stops WSL: the section goes before it
            ";c\n[boot]\nsystemd=true\n",
            "[boot]\nsystemd=true\n;c\n[boot]\nsystemd=true\n",
        ),
        (
            "[network]\nstatic_ip = 1\n[boot]\nsystemd=true\n",
            "[network]\n[boot]\nsystemd=true\nstatic_ip = 1\n[boot]\nsystemd=true\n",
        ),
        (
            "# mine\n[automount]\nenabled=true\n[ boot ]\nsystemd=true\n",
            "# mine\n[automount]\nenabled=true\n[boot]\nsystemd=true\n[ boot ]\nsystemd=true\n",
        ),
        ("\ufeff[boot]\nsystemd=true\n", "[boot]\nsystemd=true\n\ufeff[boot]\nsystemd=true\n"),
    ],
)
def test_wsl_edits_where_wsl_reads_it(text: str | None, expected: str) -> None:
    out = ini.set_key(text, "boot", "systemd", "true")
    assert out == expected
    for stop in (True, False):
        assert ini.same_value(ini.get_key(out, "boot", "systemd", stop), "true")
    assert ini.set_key(out, "boot", "systemd", "true") is out


def test_wsl_refuses_names_and_values_it_cannot_write() -> None:
    for section, key, value in (
        ("boot", "static_ip", "1"),
        (" boot", "systemd", "true"),
        ("boot", "systemd", "a#b"),
        ("boot", "systemd", ' "x'),
    ):
        with pytest.raises(ValueError):
            ini.set_key("", section, key, value)


def test_wsl_unset() -> None:
    text = "[boot]\nsystemd=true\ncommand=x\n"
    assert ini.unset_key(text, "BOOT", "SystemD") == "[boot]\ncommand=x\n"
    assert ini.unset_key(None, "boot", "systemd") is None


# -- properties over arbitrary text -------------------------------------------------------

# any characters, with the ones that matter to the readers made common
chars = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(list("\n\r\t \\#\"'=\0[];_.AEJKSabx") + ["export ", "JAVA_HOME", "systemd"]),
)
texts = st.one_of(
    st.lists(chars, max_size=80).map("".join),
    # arbitrary bytes, as a file on disk may hold them (decoded as envsetup reads files)
    st.binary(max_size=160).map(lambda b: b.decode("utf-8", errors="surrogateescape")),
)
env_values = st.from_regex(r"[ -~]{0,20}", fullmatch=True).filter(lambda v: "#" not in v)


def _one_line_changed(before: str, after: str, line: str) -> bool:
    """``after`` is ``before`` with ``line`` put in place of one line or inserted (the line
    before it given an LF where it had none): no other byte moved or changed."""
    old = envfile.physical_lines(before)
    for i in range(len(old) + 1):
        head = old[:i]
        if head and not head[-1].endswith("\n"):
            head = head[:-1] + [head[-1] + "\n"]
        if "".join(head + [line] + old[i:]) == after:
            return True
        if i < len(old) and "".join(old[:i] + [line] + old[i + 1 :]) == after:
            return True
    return False


def _lines_kept(before: str, after: str) -> bool:
    """Every line of ``before`` is in ``after``, in order, but at most one replaced (an LF
    may end a last line that had none)."""
    old = [x.rstrip("\r\n") for x in ini.physical_lines(before)]
    new = [x.rstrip("\r\n") for x in ini.physical_lines(after)]
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    changed = [op for op in matcher.get_opcodes() if op[0] in ("replace", "delete")]
    return sum(i2 - i1 for _, i1, i2, _, _ in changed) <= 1


@settings(max_examples=600, deadline=None)
@given(texts, env_values)
def test_env_property_any_text(text: str, value: str) -> None:
    before = envfile.environment(text)
    try:
        out = envfile.set_var(text, "JAVA_HOME", value)
    except EditRefused:
        return
    after = envfile.environment(out)
    assert after.get("JAVA_HOME") == value
    assert {k: v for k, v in after.items() if k != "JAVA_HOME"} == {
        k: v for k, v in before.items() if k != "JAVA_HOME"
    }
    assert envfile.set_var(out, "JAVA_HOME", value) is out
    if out is not text:
        assert _one_line_changed(text, out, envfile.format_line("JAVA_HOME", value) + "\n")
    removed = envfile.unset_var(out, "JAVA_HOME")
    assert removed is not None and "JAVA_HOME" not in envfile.environment(removed)


@settings(max_examples=600, deadline=None)
@given(texts, st.sampled_from(["true", "false", "1", "box"]))
def test_wsl_property_any_text(text: str, value: str) -> None:
    before = ini.reading(text)
    try:
        out = ini.set_key(text, "boot", "systemd", value)
    except EditRefused:
        return
    for stop in (True, False):
        assert ini.same_value(ini.get_key(out, "boot", "systemd", stop), value)
    assert {k: v for k, v in ini.reading(out).items() if k != ("boot", "systemd")} == {
        k: v for k, v in before.items() if k != ("boot", "systemd")
    }
    assert ini.set_key(out, "boot", "systemd", value) is out
    assert _lines_kept(text, out)
