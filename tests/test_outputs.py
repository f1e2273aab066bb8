"""No data lost: an output never destroys anything. Every file the package writes is put
in place whole, at the mode the file had; an output that is the input is refused before
anything is written; a batch that fails, is interrupted or loses a worker leaves no file
that looks complete, and says so."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from neocrm_policy.loading import cache
from neocrm_policy.batch import BatchOptions, run_batch
from neocrm_policy.cli import main
from neocrm_policy.errors import PolicyError, UsageError
from neocrm_policy.files import new_file_mode, write_atomically
from tests.helpers import REFERENCE, edit

DATA = Path(__file__).resolve().parent / "data" / "batch"
FMT = Path(__file__).resolve().parent / "data" / "fmt"
AT = "2026-03-08T00:00:00+08:00"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def policies(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("outputs") / "policies"
    shutil.copytree(REFERENCE, folder)
    return folder


def batch(policies: Path, *args: str) -> list[str]:
    return ["eval", "support.sla", "--policies", str(policies), "--at", AT, "--id", "id",
            "--quiet", *args]


def incidents(path: Path, count: int) -> Path:
    """`count` JSON Lines records, written fast (a thousand lines repeated)."""
    lines = b"".join(b'{"id": "INC-%d", "incident": {"level": %d, "reported_at": '
                     b'"2026-03-07T22:30:00+08:00"}}\n' % (n, n % 4 + 1) for n in range(1000))
    with path.open("wb") as out:
        for _ in range(count // 1000):
            out.write(lines)
    return path


# --------------------------------------------------------------------------------------
# The output is the input

@pytest.mark.parametrize("how", ["same name", "hard link", "symbolic link", "standard input"])
def test_an_output_that_is_the_input_is_refused_and_the_input_kept(policies, tmp_path, how,
                                                                   capsys, monkeypatch):
    source = tmp_path / "x.jsonl"
    shutil.copy(DATA / "incidents.jsonl", source)
    before = source.read_bytes()
    out = source
    if how == "hard link":
        out = tmp_path / "link.jsonl"
        os.link(source, out)
    elif how == "symbolic link":
        out = tmp_path / "link.jsonl"
        out.symlink_to(source)
    given = str(source)
    if how == "standard input":
        handle = source.open("rb")
        monkeypatch.setattr(os, "fstat", lambda fd, real=os.fstat: real(
            handle.fileno() if fd == 0 else fd))
        given = "-"
    assert main(batch(policies, "--batch", given, "--out", str(out))) == 2
    err = capsys.readouterr().err
    assert f"--out {out} is" in err and "would destroy the records" in err
    assert "Traceback" not in err
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {"x.jsonl", out.name})                     # nothing half-written left either


def test_standard_output_appending_to_the_input_is_refused(policies, tmp_path):
    """`--batch x.jsonl >> x.jsonl` would read its own output back without end."""
    source = tmp_path / "x.jsonl"
    shutil.copy(DATA / "incidents.jsonl", source)
    before = source.read_bytes()
    with source.open("ab") as appending:
        done = subprocess.run([sys.executable, "-m", "neocrm_policy",
                               *batch(policies, "--batch", str(source))],
                              stdout=appending, stderr=subprocess.PIPE, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 2
    assert b"standard output goes to the input file" in done.stderr
    assert source.read_bytes() == before


def test_a_parquet_output_that_is_the_input_is_refused(policies, tmp_path, capsys):
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": ["a"], "incident.level": [4],
                             "incident.reported_at": ["2026-03-07T22:30:00+08:00"]}), source)
    before = source.read_bytes()
    assert main(batch(policies, "--batch", str(source), "--out", str(source))) == 2
    assert "would destroy the records" in capsys.readouterr().err
    assert source.read_bytes() == before


# --------------------------------------------------------------------------------------
# A batch that fails keeps what was there

def test_a_failed_batch_keeps_the_file_already_at_its_output(policies, tmp_path, capsys):
    keep = tmp_path / "keep.jsonl"
    keep.write_text('{"line": 1, "result": "last week\'s run"}\n', encoding="utf-8")
    before = keep.read_bytes()
    corrupt = tmp_path / "corrupt.parquet"
    _corrupt_in_a_data_page(corrupt)
    status = main(batch(policies, "--batch", str(corrupt), "--out", str(keep)))
    err = capsys.readouterr().err
    assert status != 0 and "Traceback" not in err
    assert keep.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_batch_writes_its_output_whole_at_the_mode_the_file_had(policies, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o640)
    run_batch(BatchOptions("support.sla", policies, str(DATA / "incidents.jsonl"), str(out),
                           at=AT, id_column="id"))
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert out.read_text(encoding="utf-8").count("\n") == 9
    fresh = tmp_path / "fresh.csv"
    run_batch(BatchOptions("support.sla", policies, str(DATA / "incidents.jsonl"),
                           str(fresh), at=AT, id_column="id"))
    assert stat.S_IMODE(fresh.stat().st_mode) == new_file_mode()


def test_new_files_get_the_umask_mode_not_a_private_one(tmp_path):
    previous = os.umask(0o022)
    try:
        new_file_mode.cache_clear()
        write_atomically(tmp_path / "new.yaml", "a: 1\n")
        assert stat.S_IMODE((tmp_path / "new.yaml").stat().st_mode) == 0o644
    finally:
        os.umask(previous)
        new_file_mode.cache_clear()


# --------------------------------------------------------------------------------------
# fmt and test --accept keep the mode a service reading the files relies on

def test_fmt_keeps_the_mode_of_the_file_it_rewrites(tmp_path, capsys):
    path = tmp_path / "messy.yaml"
    shutil.copy(FMT / "messy.yaml", path)
    path.chmod(0o644)
    assert main(["fmt", str(tmp_path)]) == 0
    assert "reformatted" in capsys.readouterr().out
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["messy.yaml"]


def test_accept_keeps_the_mode_of_the_test_files_it_rewrites(policies_copy, capsys):
    edit(policies_copy / "support-sla.yaml", "3: 4 hours", "3: 6 hours")
    tests_file = policies_copy / "tests" / "support_sla.yaml"
    tests_file.chmod(0o644)
    assert main(["test", str(policies_copy), "--accept"]) == 0
    assert "support_sla.yaml:17" in capsys.readouterr().out
    assert stat.S_IMODE(tests_file.stat().st_mode) == 0o644


def test_the_summary_page_is_written_whole_and_never_over_the_input(policies, tmp_path,
                                                                    capsys):
    page = tmp_path / "summary.html"
    page.write_text("old", encoding="utf-8")
    page.chmod(0o664)
    assert main(batch(policies, "--batch", str(DATA / "incidents.jsonl"), "--out",
                      str(tmp_path / "o.jsonl"), "--summary-out", str(page))) == 1
    assert stat.S_IMODE(page.stat().st_mode) == 0o664 and "<html" in page.read_text()
    source = tmp_path / "in.jsonl"
    shutil.copy(DATA / "incidents.jsonl", source)
    assert main(batch(policies, "--batch", str(source), "--out", str(tmp_path / "p.jsonl"),
                      "--summary-out", str(source))) == 2
    assert "--summary-out" in capsys.readouterr().err
    assert source.read_bytes() == (DATA / "incidents.jsonl").read_bytes()


def test_a_cache_record_stays_private(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(tmp_path / "cache"))
    cache.write("probe", "key", {"a": 1})
    record = tmp_path / "cache" / "probe.json"
    assert cache.read("probe", "key") == {"a": 1}
    assert stat.S_IMODE(record.stat().st_mode) == 0o600


# --------------------------------------------------------------------------------------
# Interrupted: no file that looks complete, a word saying so, 130 or 143

def _started(folder: Path, input_name: str, process: subprocess.Popen) -> None:
    """Wait until the batch has written output (a file beside the input with bytes)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(p.name != input_name and p.stat().st_size > 0 for p in folder.iterdir()):
            return
        if process.poll() is not None:
            pytest.fail(f"the batch ended before it could be interrupted: {process.returncode}")
        time.sleep(0.02)
    pytest.fail("the batch wrote nothing in two minutes")


def _interruptible() -> None:
    """Ctrl-C as a terminal delivers it: a command started in the background by a
    script (as CI may start the tests) inherits SIGINT ignored, and Python keeps it so;
    the batch then rightly runs to its end, which is not what this test is about."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sent, status, word, out_name", [
    (signal.SIGINT, 130, "interrupted", "out.parquet"),
    (signal.SIGTERM, 143, "terminated", "out.jsonl"),
])
def test_an_interrupted_batch_leaves_no_file_that_looks_complete(policies, tmp_path, sent,
                                                                status, word, out_name):
    work = tmp_path / "work"
    work.mkdir()
    source = incidents(work / "in.jsonl", 300_000)
    process = subprocess.Popen(
        [sys.executable, "-m", "neocrm_policy", *batch(policies, "--batch", str(source),
                                                        "--out", str(work / out_name))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=_interruptible)
    try:
        _started(work, source.name, process)
        process.send_signal(sent)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    text = err.decode()
    assert process.returncode == status, text
    assert f"{word}: {work / out_name} not written" in text and "Traceback" not in text
    assert sorted(p.name for p in work.iterdir()) == ["in.jsonl"]


# --------------------------------------------------------------------------------------
# Worker processes: no more than the cores, and a dead one ends the run

def test_jobs_are_capped_at_the_cores_this_run_has(policies, tmp_path, capsys, monkeypatch):
    from neocrm_policy.batch import running
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    out = tmp_path / "out.jsonl"
    assert main(["eval", "support.sla", "--policies", str(policies), "--at", AT, "--id",
                 "id", "--batch", str(DATA / "incidents.jsonl"), "--out", str(out),
                 "--jobs", "3"]) == 1
    err = capsys.readouterr().err
    assert "--jobs 3: this run has 1 core, so 1 worker process" in err
    assert running.worker_count(1000) == 1
    assert out.read_text(encoding="utf-8").count("\n") == 9


def die_in_worker(plan, chunk):
    """Sent to a worker in place of its work: the worker is killed, as the system kills a
    process when memory runs out."""
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_dead_worker_ends_the_batch_with_a_clear_error_not_a_hang(policies, tmp_path):
    source = incidents(tmp_path / "in.jsonl", 20_000)
    out = tmp_path / "out.jsonl"
    out.write_text("kept\n", encoding="utf-8")
    script = (
        "import sys, os\n"
        "os.sched_getaffinity = lambda pid: {0, 1}\n"
        "from neocrm_policy.batch import running\n"
        "running.free_cores = lambda sample=0.1: 2.0\n"
        "import tests.test_outputs as here\n"
        "running._worker_chunk = here.die_in_worker\n"
        "from neocrm_policy.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n")
    process = subprocess.Popen(
        [sys.executable, "-c", script, *batch(policies, "--batch", str(source), "--out",
                                              str(out), "--jobs", "2")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
    try:
        _, err_bytes = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)       # the batch and any worker it started
        process.communicate()
        pytest.fail("the batch hung when its worker died")
    err = err_bytes.decode()
    assert process.returncode == 1, err
    assert "a worker process ended before deciding its records" in err
    assert "Traceback" not in err
    assert out.read_text(encoding="utf-8") == "kept\n"


def test_jobs_on_a_busy_machine_decide_in_one_process_and_say_so(policies, tmp_path,
                                                                  monkeypatch, capsys):
    from neocrm_policy.batch import running
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(running, "free_cores", lambda sample=0.1: 0.4)

    def no_pool(*args, **kwargs):
        raise AssertionError("a worker pool was started on a busy machine")
    monkeypatch.setattr(running, "ProcessPoolExecutor", no_pool)
    out = tmp_path / "out.jsonl"
    assert main(["eval", "support.sla", "--policies", str(policies), "--at", AT, "--id",
                 "id", "--batch", str(DATA / "incidents.jsonl"), "--out", str(out),
                 "--jobs", "2"]) == 1
    assert "--jobs 2: 0.4 of 2 cores are idle now, so the batch is decided in this " \
        "process" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8").count("\n") == 9
    monkeypatch.setattr(running, "free_cores", lambda sample=0.1: 1.9)
    assert running.plan_workers(2).count == 1           # one idle core: no gain from two
    monkeypatch.setattr(running, "free_cores", lambda sample=0.1: 2.0)
    assert running.plan_workers(2) == running.Workers(2, None)
    monkeypatch.setattr(running, "free_cores", lambda sample=0.1: None)   # nothing to read
    assert running.plan_workers(2) == running.Workers(2, None)


def test_idle_cores_are_measured_from_the_kernels_counters():
    from neocrm_policy.batch import running
    free = running.free_cores(0.05)
    if not Path("/proc/stat").exists():
        assert free is None
    else:
        assert free is not None and 0 <= free <= running.cores()


def test_jobs_below_one_is_a_usage_error():
    from neocrm_policy.batch import running
    with pytest.raises(UsageError):
        running.worker_count(0)


# --------------------------------------------------------------------------------------
# Inputs that are broken or endless end in a clear error

def _corrupt_in_a_data_page(path: Path) -> None:
    """A Parquet file whose footer is sound but whose second row group's data is not."""
    table = pa.table({"id": [f"INC-{n}" for n in range(20_000)],
                      "incident.level": [n % 4 + 1 for n in range(20_000)],
                      "incident.reported_at": ["2026-03-07T22:30:00+08:00"] * 20_000})
    pq.write_table(table, path, row_group_size=5_000, compression="snappy")
    meta = pq.ParquetFile(path).metadata
    column = meta.row_group(2).column(1)
    start = column.data_page_offset
    data = bytearray(path.read_bytes())
    for n in range(start + 20, start + column.total_compressed_size - 4):
        data[n] = 0xFF ^ data[n]
    path.write_bytes(bytes(data))


def test_a_parquet_file_corrupt_in_a_data_page_is_a_clear_error(policies, tmp_path, capsys):
    source = tmp_path / "corrupt.parquet"
    _corrupt_in_a_data_page(source)
    out = tmp_path / "out.jsonl"
    status = main(batch(policies, "--batch", str(source), "--out", str(out)))
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert f"{source}" in err and "cannot read rows 10,001 onwards" in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "corrupt.parquet"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_endless_line_is_a_located_error_not_a_memory_error(policies, tmp_path, fmt,
                                                              monkeypatch):
    from neocrm_policy.batch import readers
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 1 << 20)
    source = tmp_path / f"in.{fmt}"
    with source.open("wb") as out:
        if fmt == "csv":
            out.write(b"id,incident.level,incident.reported_at\n")
        out.write(b"\0" * (8 << 20))
    with pytest.raises(PolicyError) as caught:
        run_batch(BatchOptions("support.sla", policies, str(source),
                               str(tmp_path / "out.jsonl"), at=AT, id_column="id"))
    line = 2 if fmt == "csv" else 1
    assert (caught.value.location.file, caught.value.location.line) == (str(source), line)
    assert f"line {line} is longer than 1 MiB" in caught.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_dev_zero_ends_in_a_clear_error(policies, capsys, fmt):
    """Not run on the code before the bound: it read /dev/zero until memory ran out."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    status = main(batch(policies, "--batch", "/dev/zero", "--in-format", fmt,
                        "--out", "-"))
    err = capsys.readouterr().err
    assert status == 2 and "line 1 is longer than" in err and "Traceback" not in err


def test_a_device_or_a_pipe_is_written_directly(policies, tmp_path):
    """/dev/stdout to a pipe cannot be renamed over: it is written as it always was."""
    done = subprocess.run([sys.executable, "-m", "neocrm_policy",
                           *batch(policies, "--batch", str(DATA / "incidents.jsonl"),
                                  "--out", "/dev/stdout", "--out-format", "jsonl")],
                          capture_output=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1, done.stderr
    assert done.stdout.count(b"\n") == 9 and b"Traceback" not in done.stderr
