"""Reading rule files (the `source` room): only regular files inside the policy folder,
bounded in size.

Every hostile input here is answered by one located error; where a hang is the failure
to guard against, the command runs in a child process with a timeout and a memory cap.
"""

from __future__ import annotations

import os
import resource
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from neocrm_policy import source
from neocrm_policy.cli import main
from neocrm_policy.errors import SourceError
from neocrm_policy.source import read_text
from tests.helpers import ROOT

SECRET = "root:x:0:0:the-secret-first-line"


def validate(folder: Path, capsys) -> tuple[int, str]:
    status = main(["validate", str(folder)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out + err


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def in_child(argv: list[str]) -> subprocess.CompletedProcess:
    """The command in its own process: a hang or a runaway read fails the test, not the run."""
    done = subprocess.run([sys.executable, "-m", "neocrm_policy", *argv],
                          cwd=ROOT, capture_output=True, text=True, timeout=20,
                          preexec_fn=_limited)
    assert "Traceback" not in done.stdout + done.stderr
    return done


def validate_in_child(folder: Path) -> subprocess.CompletedProcess:
    return in_child(["validate", str(folder)])


# ---------------------------------------------------------------------------------------
# Only regular files inside the folder


def test_a_link_out_of_the_folder_is_refused_and_never_shown(policies_copy, tmp_path, capsys):
    secret = tmp_path / "passwd"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    (policies_copy / "notes.yaml").symlink_to(secret)
    status, text = validate(policies_copy, capsys)
    assert status == 1
    assert "notes.yaml" in text and "outside" in text
    assert "the-secret" not in text and "root:x" not in text


@pytest.mark.parametrize("where", ["customers", "tests", "clause-map"])
def test_a_link_out_of_a_subfolder_is_refused(policies_copy, tmp_path, capsys, where):
    secret = tmp_path / "passwd"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    name = "clause-map.yaml" if where == "clause-map" else "stolen.yaml"
    target = policies_copy / where / name
    target.unlink(missing_ok=True)
    target.symlink_to(secret)
    status = main(["test", str(policies_copy)])
    out, err = capsys.readouterr()
    assert status == 1 and "Traceback" not in out + err
    assert name in out + err and "outside" in out + err
    assert "the-secret" not in out + err


def test_a_link_that_stays_inside_the_folder_is_read(policies_copy, capsys):
    shared = policies_copy / "shared"
    shared.mkdir()
    (policies_copy / "calendars.yaml").rename(shared / "calendars.yml.txt")
    (policies_copy / "calendars.yaml").symlink_to(Path("shared") / "calendars.yml.txt")
    status, text = validate(policies_copy, capsys)
    assert status == 0, text


def test_a_fifo_clause_map_is_refused_without_waiting(policies_copy):
    clause_map = policies_copy / "clause-map" / "clause-map.yaml"
    clause_map.unlink()
    os.mkfifo(clause_map)
    done = validate_in_child(policies_copy)
    assert done.returncode == 1
    assert "clause-map.yaml" in done.stderr and "FIFO" in done.stderr
    assert "hint:" in done.stderr


def test_a_clause_map_linked_to_a_device_is_refused_without_reading_it(policies_copy):
    clause_map = policies_copy / "clause-map" / "clause-map.yaml"
    clause_map.unlink()
    clause_map.symlink_to("/dev/zero")
    done = validate_in_child(policies_copy)
    assert done.returncode == 1 and "clause-map.yaml" in done.stderr


def test_a_device_inside_the_folder_is_refused(policies_copy):
    device = policies_copy / "zero.yaml"
    try:
        os.mknod(device, 0o600 | stat.S_IFCHR, os.makedev(1, 5))   # as /dev/zero
    except OSError as exc:
        pytest.skip(f"cannot make a device here: {exc}")
    done = validate_in_child(policies_copy)
    assert done.returncode == 1
    assert "zero.yaml" in done.stderr and "device" in done.stderr and "hint:" in done.stderr


def test_a_socket_inside_the_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # a socket's path is short
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind("s.yaml")
        with pytest.raises(SourceError, match="socket"):
            read_text(Path("s.yaml"), inside=Path("."))


@pytest.mark.parametrize("where", ["", "customers", "tests"])
def test_a_folder_named_like_a_rule_file_is_an_error(policies_copy, capsys, where):
    (policies_copy / where / "notes.yaml").mkdir()
    status = main(["test", str(policies_copy)])
    out, err = capsys.readouterr()
    assert status == 1 and "Traceback" not in out + err
    assert "notes.yaml" in out + err and "folder" in out + err and "hint:" in out + err


def test_the_size_cap_does_not_trust_the_size_the_system_reports(monkeypatch):
    """Files under /proc say they are empty; the reader counts what it reads."""
    maps = Path("/proc/self/maps")
    if not maps.exists() or maps.stat().st_size != 0:
        pytest.skip("no /proc file that reports size 0")
    monkeypatch.setattr(source, "MAX_FILE_BYTES", 64)
    with pytest.raises(SourceError, match="64-byte limit"):
        read_text(maps)


def test_a_file_over_the_cap_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(source, "MAX_FILE_BYTES", 100)
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 200 + "\n", encoding="utf-8")
    with pytest.raises(SourceError, match="100-byte limit"):
        read_text(big, inside=tmp_path)
    big.write_text("a: " + "x" * 90 + "\n", encoding="utf-8")
    assert read_text(big, inside=tmp_path).startswith("a: x")


def test_format_refuses_a_device_given_by_name():
    done = in_child(["fmt", "--check", "/dev/zero"])
    assert done.returncode == 1
    assert "/dev/zero" in done.stderr and "device" in done.stderr
