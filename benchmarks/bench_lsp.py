#!/usr/bin/env python3
"""How soon the language server shows the problems of an edited rule file, and how much
memory it holds, with the bundled policy folder open (issue 29).

The server is started as an editor starts it (`python -m neocrm_policy lsp`, over
stdio, driven by pygls's client). `support-sla.yaml` of the bundled folder is opened and
the whole folder checked once; then the file is edited again and again, unsaved: a
mistake typed, then taken back. Each edit's time runs from the change sent to its
diagnostics received: the server checks the edited file at once against the folder it
has loaded (`folder.check_file`). The baseline is a plain `validate` of the same folder
in this process, its cache off, timed in the same run; the edited file's check and the
whole folder's (`folder.check`, which the server runs once the typing pauses) are timed
in this process beside it. Half the edits take the mistake back and half type it; their
figures are also given apart. The memory is the server process's resident set once the
folder is checked, and again after the edits.

Completion is timed in the same session, once the edits are done: the time from the
request to the items, at three places being typed (after `incident.reported_at + `, an
empty `when:`, a clause number in `clauses:`), each asked `--edits` times; its ratio is
to the median time of an edit's diagnostics in the same run (both over stdio).

Not a test: it prints figures and the goals (≤ 100 ms, ≤ 150 MB). Needs the `lsp` extra.

    python benchmarks/bench_lsp.py [--edits 11]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "policies"
FILE = FOLDER / "support-sla.yaml"
GOOD, BAD = "4: 1 hour", "4: 1 hourz"
LATENCY_GOAL_MS, MEMORY_GOAL_MB = 100, 150


def rss_mb(pid: int) -> float:
    """The resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def in_process(edits: int) -> tuple[list[float], list[float], list[float]]:
    """The edited file's check (ms), the whole folder's, and a plain validate, each edit."""
    from neocrm_policy.authoring.validation import validate
    from neocrm_policy.lsp.folder import check, check_file
    good = FILE.read_text(encoding="utf-8")
    texts = [good if n % 2 == 0 else good.replace(GOOD, BAD, 1) for n in range(edits)]
    base = check(FOLDER, {FILE: good})   # imports and first parse out of the way
    check_file(base, FILE, {FILE: texts[-1]})
    validate(FOLDER)
    alone, wholes, validates = [], [], []
    for text in texts:   # interleaved, so all three meet the same machine
        started = time.perf_counter()
        check_file(base, FILE, {FILE: text})
        alone.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        check(FOLDER, {FILE: text})
        wholes.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        validate(FOLDER)
        validates.append((time.perf_counter() - started) * 1000)
    return alone, wholes, validates


COMPLETED = (   # (the text it replaces, what is typed in its place)
    ("value: incident.reported_at + response_time[level]", "value: incident.reported_at + "),
    ("when: incident.level is set", "when: "),
    ('clauses: ["3"]', 'clauses: ["3", "'),
)


async def served(edits: int) -> tuple[list[float], float, list[float]]:
    """Each edit's time from change to diagnostics (ms), the server's memory (MB), and
    each completion's time from request to items (ms)."""
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient
    from pygls.uris import from_fs_path
    client = LanguageClient("bench-editor", "1")
    arrived: asyncio.Queue = asyncio.Queue()
    uri = from_fs_path(str(FILE))

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: types.PublishDiagnosticsParams) -> None:
        if params.uri == uri:
            arrived.put_nowait((time.perf_counter(), params.diagnostics))

    async def shown(error: bool) -> float:
        while True:
            when, found = await asyncio.wait_for(arrived.get(), 120)
            if any(d.severity == types.DiagnosticSeverity.Error for d in found) == error:
                return when

    await client.start_io(sys.executable, "-m", "neocrm_policy", "lsp")
    try:
        await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=from_fs_path(str(ROOT))))
        client.initialized(types.InitializedParams())
        good = FILE.read_text(encoding="utf-8")
        bad = good.replace(GOOD, BAD, 1)
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri, "yaml", 1, bad)))
        await shown(True)   # the whole folder loaded and checked once
        memory = rss_mb(client._server.pid)
        times = []
        for n in range(edits):   # as in_process: even edits take the mistake back
            error = n % 2 == 1
            started = time.perf_counter()
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=n + 2, uri=uri),
                [types.TextDocumentContentChangeWholeDocument(bad if error else good)]))
            times.append((await shown(error) - started) * 1000)
        memory = max(memory, rss_mb(client._server.pid))
        completions = []
        for n, (old, new) in enumerate(COMPLETED):
            text = good.replace(old, new, 1)
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=edits + n + 2, uri=uri),
                [types.TextDocumentContentChangeWholeDocument(text)]))
            lines = text.split("\n")
            line = next(i for i, written in enumerate(lines) if written.endswith(new))
            at = types.Position(line, len(lines[line]))
            for _ in range(edits):
                started = time.perf_counter()
                found = await client.text_document_completion_async(types.CompletionParams(
                    types.TextDocumentIdentifier(uri), at))
                completions.append((time.perf_counter() - started) * 1000)
                assert found is not None and found.items, new
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
    return times, memory, completions


def spread(figures: list[float]) -> str:
    """The median, the middle half and the extremes of some times (ms)."""
    low, _, high = statistics.quantiles(figures, n=4, method="inclusive")
    return (f"median {statistics.median(figures):6.1f} ms (middle half {low:.1f}–{high:.1f}, "
            f"min {min(figures):.1f}, max {max(figures):.1f})")


def kinds(figures: list[float]) -> str:
    """The median of the edits that take a mistake back (the folder loads, is checked
    and its warnings found) and of those that type one (loading stops at it)."""
    return (f"taking a mistake back {statistics.median(figures[0::2]):.1f} ms, "
            f"typing one {statistics.median(figures[1::2]):.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=11, help="edits timed (default 11)")
    args = parser.parse_args()
    os.environ["NEOCRM_POLICY_CACHE"] = "off"   # validate judges the folder every time
    alone, wholes, validates = in_process(args.edits)
    times, memory, completions = asyncio.run(served(args.edits))
    validated = statistics.median(validates)
    print(f"bundled folder {FOLDER} ({len(list(FOLDER.rglob('*.yaml')))} YAML files), "
          f"{args.edits} edits of {FILE.name}")
    print(f"baseline: plain validate in process (cache off): {spread(validates)}")
    for name, figures in (("the edited file's check", alone),
                          ("the whole folder's check", wholes)):
        print(f"{name} in process: {spread(figures)}; "
              f"{statistics.median(figures) / validated:.2f}x validate; {kinds(figures)}")
    median = statistics.median(times)
    print(f"server, change -> diagnostics over stdio: {spread(times)}; "
          f"{median / validated:.2f}x validate; {kinds(times)}")
    print(f"  goal <= {LATENCY_GOAL_MS} ms: {'met' if median <= LATENCY_GOAL_MS else 'not met'}")
    print(f"server, completion request -> items over stdio: {spread(completions)}; "
          f"{statistics.median(completions) / median:.2f}x an edit's diagnostics")
    print(f"server memory (RSS) with the folder open: {memory:.1f} MB; goal <= "
          f"{MEMORY_GOAL_MB} MB: {'met' if memory <= MEMORY_GOAL_MB else 'not met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
