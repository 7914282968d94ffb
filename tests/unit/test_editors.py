"""The env-file and INI editors: examples, then properties over generated files."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envsetup.editors import envfile, ini

# -- /etc/environment ----------------------------------------------------------


def test_env_replaces_in_place_and_drops_duplicates() -> None:
    text = '# c\nPATH="/bin"\nJAVA_HOME=/old\nA=1\nJAVA_HOME="/dup"\n'
    assert envfile.set_var(text, "JAVA_HOME", "/new") == '# c\nPATH="/bin"\nJAVA_HOME="/new"\nA=1\n'


def test_env_appends_and_keeps_missing_final_newline_safe() -> None:
    assert envfile.set_var('PATH="/bin"', "K", "v") == 'PATH="/bin"\nK="v"\n'
    assert envfile.set_var(None, "K", "v") == 'K="v"\n'
    assert envfile.set_var("", "K", "v") == 'K="v"\n'


def test_env_keeps_crlf_and_export_prefix() -> None:
    assert envfile.set_var("export K=1\r\nB=2\r\n", "K", "v") == 'export K="v"\r\nB=2\r\n'


def test_env_does_not_touch_similar_names() -> None:
    text = 'JAVA_HOME_OLD="/x"\n#JAVA_HOME="/y"\n'
    assert envfile.set_var(text, "JAVA_HOME", "/z") == text + 'JAVA_HOME="/z"\n'


def test_env_refuses_values_pam_env_cannot_hold() -> None:
    for bad in ('a"b', "a\nb", "a\x00b"):
        with pytest.raises(ValueError, match="may not contain double quotes or newlines"):
            envfile.set_var("", "K", bad)
    with pytest.raises(ValueError, match="not a valid environment variable name"):
        envfile.set_var("", "K-1", "v")


def test_env_unset_and_values() -> None:
    text = 'A=1\nK="x"\n# K=comment\nK=y\n'
    assert envfile.unset_var(text, "K") == "A=1\n# K=comment\n"
    assert envfile.unset_var(None, "K") is None
    assert envfile.get_values(text, "K") == ["x", "y"]


lines = st.one_of(
    st.from_regex(r"#[ -~]{0,20}", fullmatch=True),
    st.from_regex(r"[A-Z_]{1,8}=\"?[a-z/]{0,8}\"?", fullmatch=True),
    st.from_regex(r"[ \t]{0,3}", fullmatch=True),
    st.just("JAVA_HOME=/old"),
    st.just('export JAVA_HOME="/x"'),
)
env_files = st.lists(lines, max_size=12).map(lambda ls: "".join(line + "\n" for line in ls))
values = st.from_regex(r"/[A-Za-z0-9._/-]{0,20}", fullmatch=True)


@settings(max_examples=300)
@given(env_files, values)
def test_env_property_other_lines_kept_and_idempotent(text: str, value: str) -> None:
    out = envfile.set_var(text, "JAVA_HOME", value)
    assert envfile.get_values(out, "JAVA_HOME") == [value]

    def others(t: str) -> list[str]:
        return [x for x in t.splitlines() if not envfile._line_re("JAVA_HOME").match(x)]

    assert others(out) == others(text)
    assert envfile.set_var(out, "JAVA_HOME", value) == out
    removed = envfile.unset_var(out, "JAVA_HOME")
    assert removed is not None and others(removed) == others(text)
    assert envfile.get_values(removed, "JAVA_HOME") == []


# -- INI, WSL rules ---------------------------------------------------------------

WSL_CONF = """\
# wsl.conf written by hand
[automount]
enabled = true
options = "metadata,umask=22"

[Boot]
command = service docker start ; echo hi
SystemD=false
systemd = true

[network]
hostname = box
"""


def test_ini_sets_first_occurrence_in_place_and_removes_later_duplicates() -> None:
    out = ini.set_key(WSL_CONF, "boot", "systemd", "true")
    assert out == WSL_CONF.replace("SystemD=false\nsystemd = true\n", "SystemD=true\n")


def test_ini_adds_key_to_existing_section_and_new_section() -> None:
    text = "[boot]\ncommand = x\n\n[user]\ndefault = me\n"
    assert ini.set_key(text, "boot", "systemd", "true") == (
        "[boot]\ncommand = x\nsystemd=true\n\n[user]\ndefault = me\n"
    )
    assert ini.set_key("[user]\ndefault = me", "boot", "systemd", "true") == (
        "[user]\ndefault = me\n\n[boot]\nsystemd=true\n"
    )
    assert ini.set_key(None, "boot", "systemd", "true") == "[boot]\nsystemd=true\n"


def test_ini_semicolon_is_not_a_comment_and_hash_is() -> None:
    text = "[boot]\n# systemd=false\n;systemd=false\n"
    assert ini.get_key(text, "boot", "systemd") is None
    assert ini.get_key("[boot]\nsystemd=false ; really\n", "boot", "systemd") == "false ; really"


def test_ini_unset() -> None:
    assert ini.unset_key(WSL_CONF, "BOOT", "systemd") == WSL_CONF.replace(
        "SystemD=false\nsystemd = true\n", ""
    )


names = st.sampled_from(["boot", "Boot", "BOOT", "automount", "network", "interop", "user"])
keys = st.sampled_from(["systemd", "SystemD", "enabled", "command", "hostname"])
ini_lines = st.one_of(
    names.map(lambda n: f"[{n}]"),
    st.tuples(
        keys,
        st.sampled_from(["=", " = ", "  =\t"]),
        st.from_regex(r"[a-z0-9 ;,]{0,8}", fullmatch=True),
    ).map("".join),
    st.from_regex(r"#[ -~]{0,15}", fullmatch=True),
    st.just(""),
    st.just("   "),
)
ini_files = st.lists(ini_lines, max_size=15).map(lambda ls: "".join(line + "\n" for line in ls))


@settings(max_examples=400)
@given(ini_files)
def test_ini_property_systemd_true_and_nothing_else_changes(text: str) -> None:
    out = ini.set_key(text, "boot", "systemd", "true")
    assert ini.get_key(out, "boot", "systemd") == "true"
    assert ini.set_key(out, "boot", "systemd", "true") == out

    def others(t: str) -> list[str]:
        owners = ini._sections(t.splitlines(keepends=True))
        return [
            line
            for line, owner in zip(t.splitlines(), owners)
            if not (owner == "boot" and ini._key_of(line) == "systemd")
            and not (ini._is_header(line) and owner == "boot")
        ]

    assert [line for line in others(out) if line.strip()] == [
        line for line in others(text) if line.strip()
    ]


ops = st.lists(
    st.tuples(
        st.sampled_from(["set", "unset"]), st.sampled_from(["JAVA_HOME", "PATH", "A"]), values
    ),
    max_size=8,
)


@settings(max_examples=300)
@given(env_files, ops)
def test_env_property_any_sequence_of_operations(text: str, sequence: list) -> None:
    touched = {key for _, key, _ in sequence}
    expected: dict[str, str | None] = {}
    out: str | None = text
    for op, key, value in sequence:
        out = envfile.set_var(out, key, value) if op == "set" else envfile.unset_var(out, key)
        expected[key] = value if op == "set" else None
    assert out is not None

    def untouched(t: str) -> list[str]:
        return [x for x in t.splitlines() if not any(envfile._line_re(k).match(x) for k in touched)]

    assert untouched(out) == untouched(text)
    for key, value in expected.items():
        assert envfile.get_values(out, key) == ([] if value is None else [value])
    again = out
    for op, key, value in sequence:  # replaying the same operations changes nothing more
        again = envfile.set_var(again, key, value) if op == "set" else envfile.unset_var(again, key)
    final = {k: v for k, v in expected.items()}
    for key, value in final.items():
        assert envfile.get_values(again or "", key) == ([] if value is None else [value])


@settings(max_examples=300)
@given(
    ini_files,
    st.lists(
        st.tuples(
            st.sampled_from(["set", "unset"]),
            st.sampled_from(["boot", "network"]),
            st.sampled_from(["systemd", "hostname"]),
            st.sampled_from(["true", "false", "box"]),
        ),
        max_size=8,
    ),
)
def test_ini_property_any_sequence_of_operations(text: str, sequence: list) -> None:
    out: str | None = text
    expected: dict[tuple[str, str], str | None] = {}
    for op, section, key, value in sequence:
        if op == "set":
            out = ini.set_key(out, section, key, value)
        else:
            out = ini.unset_key(out, section, key)
        expected[(section, key)] = value if op == "set" else None
    for (section, key), value in expected.items():
        assert ini.get_key(out or "", section, key) == value
    touched = {(s, k) for s, k in expected}
    lines = (out or "").splitlines(keepends=True)
    source = text.splitlines(keepends=True)

    def kept(ls: list[str]) -> list[str]:
        owners = ini._sections(ls)
        return [
            x
            for x, o in zip(ls, owners)
            if x.strip()
            and not ini._is_header(x)
            and not any(o == s and ini._key_of(x) == k for s, k in touched)
        ]

    assert kept(lines) == kept(source)
