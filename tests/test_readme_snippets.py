"""The README's configuration snippets read the way the programs that get them read them.

Found by a new user: a scrapyd.conf with ``max_proc = 8   ; comment`` stopped scrapyd
("invalid literal for int()"), and systemd took ``KillMode=process   # comment`` for an invalid
kill mode (falling back to killing the crawls on a restart) and ``EnvironmentFile=… # …`` for a
file name that does not exist. Neither program strips a comment after a value.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
_FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.M | re.S)
_UNIT_HEADER = re.compile(r"^# (/etc/systemd/system/\S+)$", re.M)

# systemd.unit(5), systemd.service(5), systemd.exec(5), systemd.kill(5), systemd.timer(5): the keys the README uses
_UNIT_KEYS = {
    "Unit": {"Description", "After", "Wants", "Requires"},
    "Service": {
        "Type", "User", "Group", "WorkingDirectory", "EnvironmentFile", "Environment", "ExecStart", "KillMode",
        "Restart", "RestartSec",
    },
    "Timer": {"OnCalendar", "Persistent", "RandomizedDelaySec", "Unit"},
    "Install": {"WantedBy"},
}  # fmt: skip
_KILL_MODES = {"control-group", "mixed", "process", "none"}


def _blocks(language: str) -> list[str]:
    return [
        re.sub(rf"^{indent}", "", body, flags=re.M)
        for indent, lang, body in _FENCE.findall(README.read_text(encoding="utf-8"))
        if lang == language
    ]


def _units() -> dict[str, str]:
    units: dict[str, str] = {}
    for block in _blocks("ini"):
        parts = _UNIT_HEADER.split(block)
        for path, text in zip(parts[1::2], parts[2::2], strict=True):
            units[path] = text
    return units


def _scrapyd_confs() -> list[str]:
    return [block for block in _blocks("ini") if block.lstrip().startswith("[scrapyd]")]


def test_the_readme_has_the_snippets_this_file_checks():
    units = _units()
    assert {"scrapyd.service", "govnews-dispatch.service", "govnews-dispatch.timer", "govnews.timer"} <= {
        path.rsplit("/", 1)[1] for path in units
    }
    assert len(_scrapyd_confs()) == 1


def test_the_scrapyd_conf_snippet_is_read_by_scrapyd_as_meant(tmp_path):
    from importlib.resources import files

    from scrapyd.config import Config

    snippet = _scrapyd_confs()[0]
    conf = tmp_path / "scrapyd.conf"
    conf.write_text(snippet, encoding="utf-8")
    config = Config(extra_sources=(str(conf),))  # read last: its values win, as /etc/scrapyd/scrapyd.conf's do
    assert config.get("bind_address") == "10.0.0.11"
    assert config.getint("http_port") == 6800
    assert config.getint("max_proc") == 8
    assert (config.get("username"), config.get("password")) == ("fleet", "a-long-random-secret")
    known = set(re.findall(r"^(\w+)\s*=", files("scrapyd").joinpath("default_scrapyd.conf").read_text(), re.M))
    used = set(re.findall(r"^(\w+)\s*=", snippet, re.M))
    assert used <= known, f"not scrapyd options: {sorted(used - known)}"


@pytest.mark.parametrize("path", sorted(_units()))
def test_each_systemd_unit_snippet_parses_as_systemd_reads_it(path):
    """systemd takes a comment only on a line of its own; every key must be one of its section's."""
    section = None
    for number, line in enumerate(_units()[path].splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("["):
            section = stripped.strip("[]")
            assert section in _UNIT_KEYS, f"{path}:{number}: unknown section {stripped}"
            continue
        key, equals, value = stripped.partition("=")
        assert equals, f"{path}:{number}: not a key=value line: {line!r}"
        assert section, f"{path}:{number}: a key before any section: {line!r}"
        assert key in _UNIT_KEYS[section], f"{path}:{number}: {key} is not a [{section}] key"
        assert not re.search(r"\s[#;]", value), f"{path}:{number}: a comment after the value becomes the value"
        if key == "KillMode":
            assert value in _KILL_MODES, f"{path}:{number}: KillMode={value}"
        if key in ("ExecStart", "WorkingDirectory", "EnvironmentFile"):
            assert value.startswith("/"), f"{path}:{number}: {key} needs an absolute path"


def test_the_scrapyd_unit_leaves_crawls_running_when_the_daemon_restarts():
    unit = next(text for path, text in _units().items() if path.endswith("/scrapyd.service"))
    assert re.search(r"^KillMode=process$", unit, re.M)
