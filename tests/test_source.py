"""Reading rule files (the `source` room): only regular files inside the policy folder,
bounded in size and nesting, and one reading of YAML's numbers and booleans.

Every hostile input here is answered by one located error; where a hang is the failure
to guard against, the command runs in a child process with a timeout and a memory cap.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import stat
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from neocrm_policy import errors
from neocrm_policy.source import text as source
from neocrm_policy.cli import main
from neocrm_policy.errors import Location, PolicyError, SourceError, YamlError
from neocrm_policy.source.text import parse_yaml, read_text
from neocrm_policy.source.documents import MAX_NESTING
from tests.helpers import REFERENCE, ROOT, edit

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


def test_the_service_revision_never_reads_through_a_link_out_of_the_folder(policies_copy,
                                                                        tmp_path):
    from neocrm_policy.deciding.served import revision_of
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("policy: one\n", encoding="utf-8")
    (policies_copy / "notes.yaml").symlink_to(outside)
    before = revision_of(policies_copy)
    outside.write_text("policy: two\n", encoding="utf-8")
    assert revision_of(policies_copy) == before


def test_a_facts_file_is_capped_in_bytes_not_characters(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("neocrm_policy.cli.MAX_FILE_BYTES", 100)
    facts = tmp_path / "facts.json"
    facts.write_text('{"note": "' + "é" * 60 + '"}', encoding="utf-8")   # 72 characters
    status = main(["eval", "support.sla", "--policies", str(REFERENCE), "-i", str(facts)])
    out, err = capsys.readouterr()
    assert status == 1 and "Traceback" not in out + err
    assert "facts.json is over the 100-byte limit" in err


def test_format_refuses_a_device_given_by_name():
    done = in_child(["fmt", "--check", "/dev/zero"])
    assert done.returncode == 1
    assert "/dev/zero" in done.stderr and "device" in done.stderr


# ---------------------------------------------------------------------------------------
# Nesting


def _nested(levels: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(levels)) + "  " * levels + "end\n"


def test_nesting_up_to_the_limit_is_read():
    data = parse_yaml(_nested(MAX_NESTING), "deep.yaml")
    for i in range(MAX_NESTING):
        data = data[f"k{i}"]
    assert data == "end"


@pytest.mark.parametrize("levels", [MAX_NESTING + 1, 200, 245])
def test_nesting_past_the_limit_is_a_located_error(levels):
    with pytest.raises(YamlError, match=f"nested more than {MAX_NESTING} levels") as caught:
        parse_yaml(_nested(levels), "deep.yaml")
    assert caught.value.location.line == MAX_NESTING + 1
    assert caught.value.hint


def test_a_deeply_nested_rule_file_is_one_clear_message(policies_copy, capsys):
    (policies_copy / "deep.yaml").write_text("policy: deep.one\ndecisions:\n"
                                             + "".join("  " * (i + 1) + f"k{i}:\n"
                                                       for i in range(200)),
                                             encoding="utf-8")
    status, text = validate(policies_copy, capsys)
    assert status == 1 and "deep.yaml:" in text and "nested" in text


# ---------------------------------------------------------------------------------------
# One reading of YAML: the 1.2 core schema, with YAML 1.1's surprises refused


@pytest.mark.parametrize("written, fix", [
    ("017", "write 17"),
    ("-017", "write -17"),
    ("08", "write 8"),
    ("0x1F", "write 31"),
    ("0o17", "write 15"),
    ("0b101", "write 5"),
    ("1_000", "write 1000"),
    ("1_000.5", "write 1000.5"),
    ("1.0e+400", "without an exponent"),
    ("1e5", "without an exponent"),
    (".inf", "finite"),
    ("-.Inf", "finite"),
    (".nan", "finite"),
    ("yes", "write true"),
    ("No", "write false"),
    ("ON", "write true"),
    ("off", "write false"),
])
def test_a_yaml_1_1_surprise_is_refused_where_it_stands(written, fix):
    text = f"policy: x\nparameters:\n  limit:\n    value: {written}\n"
    with pytest.raises(YamlError, match=fix) as caught:
        parse_yaml(text, "surprise.yaml")
    where = caught.value.location
    assert (where.file, where.line, where.column) == ("surprise.yaml", 4, 12)
    assert "quote it" in caught.value.hint
    assert written in caught.value.message


@pytest.mark.parametrize("written", ["!!float .inf", "!!float .nan", "!!int 0x1F",
                                     "!!bool yes", "!!float 1e400"])
def test_an_explicit_tag_does_not_bring_a_surprise_back(written):
    with pytest.raises(YamlError):
        parse_yaml(f"value: {written}\n", "tagged.yaml")


@pytest.mark.parametrize("written, meant", [
    ("12345678901234567.89", Decimal("12345678901234567.89")),
    ("0.1", Decimal("0.1")),
    ("-2.50", Decimal("-2.50")),
    (".5", Decimal("0.5")),
    ("17", 17),
    ("0", 0),
    ("-3", -3),
    ("true", True),
    ("False", False),
    ("8:00", "8:00"),
    ("22:00", "22:00"),
    ("00:00", "00:00"),
    ("1:30:00", "1:30:00"),
    ("'017'", "017"),
    ("'yes'", "yes"),
    ("~", None),
])
def test_numbers_are_read_exactly_and_times_stay_text(written, meant):
    value = parse_yaml(f"value: {written}\n", "ok.yaml")["value"]
    assert value == meant and type(value) is type(meant)


def test_a_whole_number_too_long_to_read_is_a_located_error():
    with pytest.raises(YamlError, match="5000 digits") as caught:
        parse_yaml("a: 1\nvalue: " + "9" * 5000 + "\n", "long.yaml")
    assert caught.value.location.line == 2


def test_a_surprise_as_a_key_is_refused_too():
    with pytest.raises(YamlError, match="write 17"):
        parse_yaml("levels:\n  017: 2 hours\n", "keys.yaml")


def test_a_night_window_from_22_00_is_read_as_a_time(policies_copy, capsys):
    """`22:00` is 1320 to YAML 1.1 (base 60); here it is the time of day it looks like."""
    edit(policies_copy / "maintenance-reboot.yaml", "value: 00:00", "value: 22:00")
    status = main(["eval", "maintenance.reboot", "--policies", str(policies_copy),
                   "--at", "2026-03-07T23:00:00+08:00", "--format", "json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert json.loads(out)["result"] == {"allowed": True}


def test_a_long_decimal_parameter_keeps_every_digit(policies_copy):
    from neocrm_policy.loading.loader import load_rule_file
    path = policies_copy / "exact.yaml"
    shutil.copy(policies_copy / "maintenance-reboot.yaml", path)
    edit(path, "policy: maintenance.reboot", "policy: exact.one")
    path.write_text(path.read_text(encoding="utf-8").replace(
        "decisions:", "  big:\n    label: big\n    description: d\n    clause: \"3\"\n"
        "    value: 12345678901234567.89\n\ndecisions:", 1), encoding="utf-8")
    data = load_rule_file(path)
    assert data["parameters"]["big"]["value"] == Decimal("12345678901234567.89")


def test_a_nan_in_a_rule_file_never_becomes_a_value(policies_copy, capsys):
    edit(policies_copy / "maintenance-reboot.yaml", "value: 00:00", "value: .nan")
    status, text = validate(policies_copy, capsys)
    assert status == 1 and "maintenance-reboot.yaml:" in text and "finite" in text
    assert "Decimal" not in text and "float" not in text


def test_every_hostile_answer_is_a_policy_error():
    for text in (_nested(300), "value: .inf\n", "value: 0x1F\n"):
        with pytest.raises(PolicyError):
            parse_yaml(text, "x.yaml")


@pytest.mark.parametrize("key", ['"x\\n"', '"x "', '"a\\tb"'])
def test_a_key_that_hides_a_line_break_or_space_is_refused(tmp_path, key):
    """A name ending in a line break passed the schema's `$` and was accepted (issue 9)."""
    (tmp_path / "p.yaml").write_text(
        'policy: t.keys\ntitle: T\nclauses: ["1"]\nsummary: S.\ninputs:\n'
        f"  {key}:\n    type: int\ndecisions:\n  a:\n    value: 1\n", encoding="utf-8")
    with pytest.raises(YamlError) as caught:
        source.load_yaml(tmp_path / "p.yaml")
    assert (caught.value.location.line, caught.value.location.column) == (6, 3)
    assert "line break, a tab or a space" in caught.value.message


# ---------------------------------------------------------------------------------------
# The line an error shows is read again, capped as a rule file is (issue 9)


def test_an_error_shows_its_line_from_a_regular_file(tmp_path):
    rules = tmp_path / "p.yaml"
    rules.write_text("policy: t.p\ntitle: T\n", encoding="utf-8")
    assert Location(str(rules), 2, 1).source_line() == "title: T"
    assert Location(str(rules), 3, 1).source_line() is None


def test_an_error_in_a_file_grown_past_the_cap_shows_no_line(tmp_path, monkeypatch):
    monkeypatch.setattr(errors, "MAX_FILE_BYTES", 100)
    rules = tmp_path / "p.yaml"
    rules.write_text("policy: t.p\n" + "# " + "x" * 200 + "\n", encoding="utf-8")
    assert Location(str(rules), 1, 1).source_line() is None
    rules.write_text("policy: t.p\n" + "# " + "x" * 80 + "\n", encoding="utf-8")
    assert Location(str(rules), 1, 1).source_line() == "policy: t.p"


def test_an_error_located_in_a_fifo_shows_no_line_without_waiting(tmp_path):
    fifo = tmp_path / "p.yaml"
    os.mkfifo(fifo)
    shown: list = []
    reader = threading.Thread(target=lambda: shown.append(Location(str(fifo), 1, 1)
                                                          .source_line()), daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():   # release the reader that waits for a writer
        with open(fifo, "w", encoding="utf-8") as writer:
            writer.write("x\n")
        reader.join(5)
    assert shown == [None]


def test_an_error_located_in_a_device_shows_no_line_and_reads_nothing(tmp_path):
    """/dev/zero never ends: reading it whole grew until memory ran out."""
    zero = tmp_path / "p.yaml"
    zero.symlink_to("/dev/zero")
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from neocrm_policy.errors import Location; "
         "print(Location(sys.argv[1], 1, 1).source_line())", str(zero)],
        cwd=ROOT, capture_output=True, text=True, timeout=20, preexec_fn=_limited)
    assert (done.returncode, done.stdout) == (0, "None\n"), done.stderr[-500:]
