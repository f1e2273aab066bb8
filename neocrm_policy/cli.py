"""The `neocrm-policy` command: argument parsing and printing only.

Every command calls the public API; none has logic of its own. Errors are printed as one
clear message (with file, line, column and hint) and the exit status is non-zero; a
traceback never reaches the user.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from collections.abc import Sequence

from typing import TYPE_CHECKING, TypedDict

from . import __version__
from .errors import FactError, Location, PolicyError, UsageError
from .source.text import MAX_FILE_BYTES, bundled

if TYPE_CHECKING:
    from .deciding.engine import PolicySet

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
"""As shells report a command ended by SIGINT (Ctrl-C) or SIGTERM: 128 + the signal."""

DESCRIPTION = """\
The Neocrm subscription agreement as executable policy-as-code.

Rule files (YAML) in a policy folder encode the agreement's clauses; this command
validates them, evaluates queries on facts and lists what the policies answer.
Without a folder, the `policies/` folder of the repository you are in is used (the
current directory or the nearest parent that has one); outside such a repository, the
policies bundled with the package. validate and test say which folder they checked."""

EPILOG = """\
examples:
  neocrm-policy validate
  neocrm-policy eval support.sla --input incident.json --at 2026-03-07T23:30:00+08:00
  echo '{"subscription": {"ends_on": "2026-10-10"}}' | neocrm-policy eval data.retention --input -
  neocrm-policy list
  neocrm-policy test --coverage
  neocrm-policy examples
  neocrm-policy diff HEAD~1 HEAD
  neocrm-policy schema > policy.schema.json

exit status: 0 success, 1 a policy, fact or evaluation error, 2 a usage error,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM)"""


FOLDER_HELP = "policy folder (default: ./policies or a parent's, else the bundled policies)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neocrm-policy", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    validate = sub.add_parser(
        "validate", help="check rule files: YAML, schema, expressions, names, types",
        description="Load, check and compile every rule file of DIR and report every "
                    "problem found, each as file:line:col with a hint.")
    validate.add_argument("folder", nargs="?", metavar="DIR",
                          help=FOLDER_HELP)
    validate.add_argument("--format", choices=("text", "json"), default="text",
                          help="text for people (default) or json for tools")
    validate.add_argument("--strict", action="store_true",
                          help="fail (exit 1) on warnings too, such as a sentence that "
                               "states a term's value by hand (NP060)")

    evaluate = sub.add_parser(
        "eval", help="evaluate a query on facts and print the decision with its trace",
        description="Evaluate QUERY on the facts in FILE (a JSON object; - reads standard "
                    "input) and print each value with the rule and clause behind it. FILE "
                    "may also be an example file of examples/ (its facts, and its time "
                    "unless --at is given).")
    evaluate.add_argument("query", metavar="QUERY", help="a query name, e.g. support.sla")
    evaluate.add_argument("folder", metavar="DIR", nargs="?", default=None,
                          help="the policy folder, as validate and test take it (or give "
                               "--policies DIR)")
    evaluate.add_argument("--input", "-i", metavar="FILE|-", default=None,
                          help="JSON facts file or example file, or - for standard input "
                               "(default: no facts)")
    evaluate.add_argument("--missing", action="store_true",
                          help="required facts may be absent: give the results already "
                               "settled and, for each other, the facts that would settle it")
    evaluate.add_argument("--at", metavar="WHEN",
                          help="evaluation time, ISO 8601 (no offset = Asia/Shanghai); "
                               "default: now")
    evaluate.add_argument("--policies", metavar="DIR",
                          help=FOLDER_HELP)
    evaluate.add_argument("--format", choices=("text", "json"), default="text",
                          help="text: a short memo (default); json: result and trace")
    _batch_arguments(evaluate)

    listing = sub.add_parser("list", help="list the queries with their inputs and results",
                             description="List every query the policies answer, with the "
                                         "facts it reads and the results it gives.")
    listing.add_argument("--policies", metavar="DIR",
                         help=FOLDER_HELP)
    listing.add_argument("--format", choices=("text", "json"), default="text",
                         help="text for people (default) or json for tools")

    schema = sub.add_parser("schema", help="print a JSON Schema (for editors and services)",
                            description="Print the JSON Schema that rule files (or overlay "
                                        "or test files) follow, for schema-aware editors; "
                                        "or, with `decision`, the shape of the JSON that "
                                        "`eval --format json` prints, for services.")
    schema.add_argument("kind", nargs="?", choices=("policy", "overlay", "tests", "decision"),
                        default="policy", help="which kind (default: policy)")

    testing = sub.add_parser(
        "test", help="run the YAML policy tests of a policy folder",
        description="Run every case in DIR/tests/*.yaml against the policies of DIR and "
                    "report failures with expected and actual values and the decision's "
                    "memo. Exit status 1 when a case fails (or, with --coverage, when a "
                    "rule is not exercised by any case). After a term changes, --accept "
                    "writes what the policies now decide into the failing cases and "
                    "lists each value it moved.",
        epilog="examples:\n  neocrm-policy test --coverage\n  neocrm-policy test --accept",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    testing.add_argument("folder", nargs="?", metavar="DIR",
                         help=FOLDER_HELP)
    testing.add_argument("--coverage", action="store_true",
                         help="also list the rules and exceptions no case exercised")
    testing.add_argument("--accept", action="store_true",
                         help="rewrite the expected values of failing cases to what the "
                              "policies now decide (comments and layout kept) and print "
                              "each value moved; a failure that is not a moved value (an "
                              "error expected or now given, a file that does not load) is "
                              "listed as not accepted and the exit status is 1")
    testing.add_argument("--format", choices=("text", "json"), default="text",
                         help="text: failures with their memos (default); json: the counts "
                              "and failures, with --coverage the rules not exercised, "
                              "with --accept the values moved and the cases not accepted")

    examples = sub.add_parser(
        "examples", help="evaluate the example fact files and print each memo",
        description="Evaluate each example (a JSON file with title, query, at and facts) "
                    "and print its decision as a memo.",
        epilog="example:\n  neocrm-policy examples examples/",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    examples.add_argument("path", nargs="?", metavar="PATH",
                          help="an example JSON file, or a folder of them (default: the "
                               "bundled examples)")
    examples.add_argument("--policies", metavar="DIR",
                          help=FOLDER_HELP)
    examples.add_argument("--format", choices=("text", "json"), default="text",
                          help="text: each decision as a memo (default); json: each "
                               "decision's result and trace")
    diff = sub.add_parser(
        "diff", help="redline: what changed between two versions of the rules, in words",
        description="Compare two versions of the rules and list every change in force: "
                    "terms (entry by entry, with the date each takes effect), rules and "
                    "exceptions, decisions, facts read, readings, guard rails, calendars "
                    "and customer instruments. OLD and NEW are policy folders or git "
                    "revisions of the repository in the current directory. With --impact, "
                    "records are also decided under both versions and the report says how "
                    "many move in each result, in which direction and by how much, whose "
                    "they are, which change moved them and, for a term changed alone, "
                    "where in the facts the results move.",
        epilog="examples:\n"
               "  neocrm-policy diff            # your uncommitted edits, in words\n"
               "  neocrm-policy diff old-policies/ policies/\n"
               "  neocrm-policy diff HEAD~1 HEAD --folder policies\n"
               "  neocrm-policy diff v1.0 HEAD --impact examples/ --format json\n"
               "  neocrm-policy diff old/ policies/ --impact incidents.parquet "
               "--query support.sla\n"
               "  neocrm-policy diff HEAD policies --impact decisions.log "
               "--fail-if-changed --summary\n"
               "  neocrm-policy diff old/ policies/ --impact incidents.parquet "
               "--query support.sla --dask",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    diff.add_argument("old", metavar="OLD", nargs="?",
                      help="policy folder or git revision (default: the last commit, HEAD)")
    diff.add_argument("new", metavar="NEW", nargs="?",
                      help="policy folder or git revision (default: the policy folder as it "
                           "is now, uncommitted edits included)")
    diff.add_argument("--folder", default="policies",
                      help="the policy folder inside the repository, for revisions "
                           "(default: policies)")
    diff.add_argument("--impact", nargs="+", metavar="DATA",
                      help="records to decide under both versions, counting what moves: a "
                           "folder of example files (or one), a JSON Lines, CSV or Parquet "
                           "file as `eval --batch` reads it (with --query), or the "
                           "service's decision log")
    diff.add_argument("--query", metavar="QUERY",
                      help="the query of a JSON Lines, CSV or Parquet file's records "
                           "(default: the one query the changes touch)")
    diff.add_argument("--id", dest="id_column", metavar="COLUMN",
                      help="the column (or JSON key) naming each record, shown as examples "
                           "(default: its line or row)")
    diff.add_argument("--data-format", choices=("examples", "jsonl", "csv", "parquet", "log"),
                      help="the form of DATA (default: from its name and first line)")
    diff.add_argument("--at", metavar="TIME",
                      help="evaluation time of records that give none (default: now)")
    diff.add_argument("--format", choices=("text", "markdown", "json", "html"),
                      default="text",
                      help="text: one line in words per change, then the impact (default); "
                           "markdown: the same for a document; json: the changes with old "
                           "and new values and the impact's counts, for tools; html: a page "
                           "with bar charts")
    diff.add_argument("--summary", action="store_true",
                      help="with --impact, print only the one-line summary of the impact")
    diff.add_argument("--exit-code", action="store_true",
                      help="exit with status 1 when there are changes, like git diff")
    diff.add_argument("--fail-if-changed", action="store_true",
                      help="with --impact, exit with status 1 when any record's decision "
                           "moves (to gate a change in CI)")
    diff.add_argument("--dask", action="store_true",
                      help="with --impact, measure in partitions on Dask (needs the `dask` "
                           "extra): worker processes on this machine, or the scheduler "
                           "--scheduler names; the report is the same, to the byte")
    diff.add_argument("--scheduler", metavar="ADDRESS",
                      help="with --dask, the running Dask scheduler to use, e.g. "
                           "tcp://10.0.0.5:8786 (its workers need neocrm-policy installed "
                           "and must be able to read DATA at the same path)")
    diff.add_argument("--workers", type=int, metavar="N",
                      help="with --dask and no --scheduler, the worker processes to start "
                           "on this machine (default: one per core)")
    fmt = sub.add_parser(
        "fmt", help="put rule files in one canonical layout, keeping comments",
        description="Rewrite rule, test and overlay files in one canonical layout "
                    "(indentation and key order) without losing comments; a file is "
                    "rewritten only if its meaning is unchanged, and atomically (whole, "
                    "keeping its mode, so a service reading it as another user still can).",
        epilog="examples:\n  neocrm-policy fmt\n  neocrm-policy fmt --check policies/",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    fmt.add_argument("paths", nargs="*", metavar="PATH",
                     help="files or folders (default: ./policies or a parent's, else the "
                          "bundled policies)")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; exit 1 and list the files that would change")
    fmt.add_argument("--diff", action="store_true", help="print what would change")
    _serve_parser(sub)
    return parser


def _batch_arguments(evaluate) -> None:
    batch = evaluate.add_argument_group(
        "batch (needs the `batch` extra)",
        "--batch decides every record of FILE (JSON Lines, CSV with dotted fact paths as "
        "columns, or Parquet) and writes one output record per input record, in order; a "
        "record's `at` column overrides --at. Exit status 1 when any record failed.")
    batch.add_argument("--batch", metavar="FILE|-",
                       help="records to decide: .jsonl, .csv or .parquet, or - for "
                            "standard input (JSON Lines unless --in-format says; Parquet "
                            "keeps its index at the end, so it is first copied whole from "
                            "standard input: to memory up to 32 MiB, past that to a "
                            "temporary file)")
    batch.add_argument("--out", metavar="FILE|-", default="-",
                       help="where the output records go: .jsonl, .csv or .parquet, or - "
                            "for JSON Lines on standard output (default). Written whole or "
                            "not at all: a batch that fails or is interrupted leaves a file "
                            "already there as it was; the input itself is refused")
    batch.add_argument("--in-format", choices=("jsonl", "csv", "parquet"),
                       help="the input's format when its name does not say")
    batch.add_argument("--out-format", choices=("jsonl", "csv", "parquet"),
                       help="the output's format when its name does not say")
    batch.add_argument("--id", metavar="COLUMN", dest="id_column",
                       help="a column carried through to the output to tell records apart; "
                            "not a fact. In JSON Lines a key, or a dotted path to one "
                            "(incident.ticket), as a dotted CSV or Parquet column")
    batch.add_argument("--jobs", type=int, default=1, metavar="N",
                       help="worker processes (default: 1); each loads the policies once. "
                            "At most the cores this run may use, and only those idle when "
                            "it starts: with fewer than two idle, one process decides")
    batch.add_argument("--trace", action="store_true",
                       help="write each decision's JSON (result and trace), not the result "
                            "alone")
    batch.add_argument("--summary", action="store_true",
                       help="print the count and share of each result value")
    batch.add_argument("--by", metavar="COLUMN",
                       help="summarise by a result (level), a fact (customer.id) or the id "
                            "column")
    batch.add_argument("--summary-out", metavar="FILE.html",
                       help="also write the summary as an HTML page with a chart")
    batch.add_argument("--quiet", action="store_true",
                       help="no progress bar and no closing count on standard error")


def _serve_parser(sub) -> None:
    sub.add_parser(
        "lsp", help="a language server for rule files, over stdio (for an editor)",
        description="Serve the Language Server Protocol over standard input and output, "
                    "for an editor: the problems validate finds, as you type, at their "
                    "place; hover on a term, fact or function; go to a definition; "
                    "completion of terms, facts, decisions, functions and units. Needs "
                    "the lsp extra: pip install 'neocrm-policy[lsp]'.",
        epilog="an editor starts it; in VS Code, a generic LSP client with the command\n"
               "  neocrm-policy lsp\nfor YAML files under policies/",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    types = sub.add_parser(
        "types", help="print each query's result as a Python TypedDict, for type checkers",
        description="Print a Python module with one TypedDict per query (its results and "
                    "their types, from the declarations), so that a service's type checker "
                    "knows each result: cast(SupportSlaResult, decision.result).",
        epilog="examples:\n  neocrm-policy types > policy_types.py\n"
               "  neocrm-policy types support.sla --policies policies",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    types.add_argument("queries", nargs="*", metavar="QUERY",
                       help="the queries (default: every query)")
    types.add_argument("--policies", metavar="DIR", help=FOLDER_HELP)
    review = sub.add_parser(
        "review", help="list the prose to re-read after a change, and confirm it",
        description="List each piece of prose (summary, reading, description, label, guard "
                    "rail message, clause-map note, test case name) whose rules or terms "
                    "changed since it was last confirmed, saying what changed. Re-read "
                    "each; when it still says what the rules do, confirm it with --confirm "
                    "and its name as listed (or all). The marks are kept in "
                    "review/marks.yaml in the policy folder; a folder without that file "
                    "has none until `--confirm all` starts them. Exit status 1 while prose "
                    "awaits review.",
        epilog="examples:\n  neocrm-policy review\n"
               "  neocrm-policy review --confirm \"liability.data_security: summary\"\n"
               "  neocrm-policy review --confirm all",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    review.add_argument("folder", nargs="?", metavar="DIR", help=FOLDER_HELP)
    review.add_argument("--confirm", nargs="+", metavar="NAME",
                        help="mark these pieces (as listed, in quotes; or all) as re-read "
                             "against the rules as they are now")
    review.add_argument("--format", choices=("text", "json"), default="text",
                        help="text for people (default) or json for tools")
    replay = sub.add_parser(
        "replay", help="decide the service's logged decisions again and report drift",
        description="Decide each decision of the service's decision log again, with its "
                    "facts at the time it was decided, under the policies now, and report "
                    "where the result now differs from the one logged: per query, result, "
                    "direction and customer, as `diff --impact` does. A record whose "
                    "masked facts its query reads is not decided again; the report names "
                    "the masked facts.",
        epilog="examples:\n  neocrm-policy replay decisions.jsonl\n"
               "  neocrm-policy replay decisions.jsonl --policies policies/ "
               "--fail-if-changed --summary",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    replay.add_argument("log", nargs="+", metavar="LOG",
                        help="decision log files, as `serve --decision-log` writes them "
                             "(rotated files too)")
    replay.add_argument("--policies", metavar="DIR", help=FOLDER_HELP)
    replay.add_argument("--format", choices=("text", "markdown", "json", "html"),
                        default="text",
                        help="text for people (default), markdown, json for tools, or an "
                             "html page with bar charts")
    replay.add_argument("--summary", action="store_true",
                        help="print only the one-line summary")
    replay.add_argument("--fail-if-changed", action="store_true",
                        help="exit with status 1 when any logged decision is decided "
                             "differently now")
    outdated = sub.add_parser(
        "outdated", help="list the terms past or near their review date (review_by)",
        description="List the terms in force whose `review_by:` date has passed or falls "
                    "within --within days, soonest first, with their owners. Exit status 1 "
                    "when a term is past its review date.",
        epilog="examples:\n  neocrm-policy outdated\n"
               "  neocrm-policy outdated --at 2027-01-01 --within 60 --format json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    outdated.add_argument("folder", nargs="?", metavar="DIR", help=FOLDER_HELP)
    outdated.add_argument("--at", metavar="DATE",
                          help="the date to judge at, ISO 8601 (default: today)")
    outdated.add_argument("--within", type=int, default=30, metavar="DAYS",
                          help="how many days ahead counts as near (default: 30)")
    outdated.add_argument("--format", choices=("text", "json"), default="text",
                          help="text for people (default) or json for tools")

    serve = sub.add_parser(
        "serve", help="answer queries over HTTP (needs the `serve` extra)",
        description="Serve the policies as a JSON API (POST /v1/decisions/QUERY), with "
                    "a decision log, metrics and hot reload (SIGHUP, POST "
                    "/v1/admin/reload with NEOCRM_ADMIN_TOKEN set, or --watch). SIGHUP also "
                    "opens the decision log again by its path, as it does by itself when "
                    "the file is moved or removed (logrotate). Binds to 127.0.0.1 unless "
                    "--host says otherwise.",
        epilog="example:\n  neocrm-policy serve --port 8181 --decision-log decisions.jsonl\n"
               "  curl -s localhost:8181/v1/decisions/data.retention -d "
               "'{\"facts\": {\"subscription\": {\"ends_on\": \"2026-10-10\"}}}'",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("--policies", metavar="DIR", help=FOLDER_HELP)
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=8181, help="port, 1 to 65535 (default: 8181)")
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes (default: 1); each loads its own set")
    serve.add_argument("--decision-log", metavar="PATH",
                       help="append one JSON line per decision to PATH (default: no log)")
    serve.add_argument("--log-max-bytes", type=int, default=50 * 1024 * 1024,
                       help="rotate the decision log at this size (default: 50 MiB)")
    serve.add_argument("--log-backups", type=int, default=5,
                       help="rotated decision logs kept (default: 5)")
    serve.add_argument("--log-queue", type=int, default=10_000,
                       help="decisions waiting to be logged; beyond, they are dropped "
                            "and counted (default: 10000)")
    serve.add_argument("--mask", action="append", default=[], metavar="FACT",
                       help="a dotted fact path left out of the decision log, its value "
                            "hidden wherever else it appears in a line (repeatable)")
    serve.add_argument("--max-body-bytes", type=int, default=1024 * 1024,
                       help="largest request body (default: 1 MiB); larger is a 413")
    serve.add_argument("--max-batch", type=int, default=1000,
                       help="most fact sets in one batch (default: 1000)")
    serve.add_argument("--decision-timeout", type=float, default=2.0, metavar="SECONDS",
                       help="a decision over this time is a 503 (default: 2; at most "
                            "3600)")
    serve.add_argument("--header-timeout", type=float, default=10.0, metavar="SECONDS",
                       help="time a client has to send a request's headers; then the "
                            "connection is closed with a 408 (default: 10)")
    serve.add_argument("--body-timeout", type=float, default=30.0, metavar="SECONDS",
                       help="time a client has to send a request's body; then it is a 408 "
                            "(default: 30)")
    serve.add_argument("--watch", action="store_true",
                       help="reload when a file of the policy folder changes")
    serve.add_argument("--admin-token-file", metavar="FILE",
                       help="file holding the admin bearer token (else NEOCRM_ADMIN_TOKEN "
                            "or NEOCRM_ADMIN_TOKEN_FILE; none: admin endpoints off)")
    serve.add_argument("--docs-url", metavar="URL",
                       help="address of the documentation site, to which the ask page "
                            "links each clause (else NEOCRM_DOCS_URL; default: /docs/ on "
                            "this host)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    terminate = _terminate_as_interrupt() if args.command != "serve" else (lambda: None)
    try:
        return COMMANDS[args.command](args)
    except PolicyError as error:
        fmt = getattr(args, "format", "text")
        if fmt == "json":
            print(json.dumps({"error": error.to_dict()}, indent=2, ensure_ascii=False))
        else:
            print(error.render(), file=sys.stderr)
        return EXIT_USAGE if isinstance(error, UsageError) else EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:
        return EXIT_OK
    finally:
        terminate()


class Terminated(BaseException):
    """SIGTERM, raised where the command is, so that what it was writing is cleaned up
    (as Ctrl-C's KeyboardInterrupt is) instead of the process vanishing mid-write."""


def _terminate_as_interrupt():
    """Turn SIGTERM into `Terminated` while a command runs; returns what undoes it. Not
    for `serve`, whose server stops gracefully on SIGTERM by itself."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def raise_terminated(signum, frame):
        raise Terminated
    try:
        before = signal.signal(signal.SIGTERM, raise_terminated)
    except (ValueError, OSError):
        return lambda: None
    return lambda: signal.signal(signal.SIGTERM, before)


def policy_folder(given: str | None) -> Path:
    """The folder a command works on: the one given, else the `policies/` folder of the
    repository the command runs in (this directory or the nearest parent with one), else
    the bundled policies. An editor running `neocrm-policy test` in a checkout checks the
    checkout's rules, not the copy installed with the package."""
    if given:
        return Path(given)
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / "policies"
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    return bundled("policies")


def _policy_set(folder: str | None) -> PolicySet:
    from .deciding.engine import load
    return load(policy_folder(folder))


def cmd_validate(args) -> int:
    from .authoring.validation import validate
    folder = policy_folder(args.folder)
    verdict = validate(folder)
    warnings, queries = verdict.warnings, verdict.queries
    count = len(queries)
    if args.format == "json":
        print(json.dumps({"folder": str(folder), "valid": True,
                          "queries": queries,
                          "warnings": [w.to_dict() for w in warnings]}, indent=2))
    else:
        print(f"{folder}: {count} polic{'y' if count == 1 else 'ies'} valid "
              f"({', '.join(queries)})")
        for warning in warnings:
            print(f"warning: {warning.render()}", file=sys.stderr)
        if warnings:
            print(f"{len(warnings)} warning{'s' if len(warnings) > 1 else ''}",
                  file=sys.stderr)
    return EXIT_FAILED if warnings and args.strict else EXIT_OK


def read_facts_text(source: str) -> tuple[str, str]:
    """The text of a facts file (or of standard input, for "-") and the name to cite."""
    name = "<stdin>" if source == "-" else source
    not_utf8 = FactError(f"{name} is not UTF-8 text", Location(name), "save it as UTF-8")
    try:
        if source == "-":
            data = sys.stdin.read(MAX_FILE_BYTES + 1).encode("utf-8", "surrogateescape")
        else:   # a pipe such as <(…) is welcome; the limit counts bytes, as for rule files
            with open(source, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read facts from {name}: {exc.strerror}", Location(name),
                         "give a JSON file, or - to read standard input") from None
    except UnicodeDecodeError:
        raise not_utf8 from None
    if len(data) > MAX_FILE_BYTES:
        raise FactError(f"{name} is over the {MAX_FILE_BYTES}-byte limit", Location(name),
                        "facts for one decision are small; check the file")
    try:
        return data.decode("utf-8"), name
    except UnicodeDecodeError:
        raise not_utf8 from None


def cmd_eval(args) -> int:
    if args.batch is not None:
        return cmd_eval_batch(args)
    from .language.facts import in_input, parse_facts_json
    from .authoring.validation import load_for
    if args.folder and args.policies and args.folder != args.policies:
        raise UsageError(f"two policy folders given: {args.folder} and --policies "
                         f"{args.policies}", None, "give the folder once")
    policies = load_for(policy_folder(args.folder or args.policies), args.query)
    text, name = read_facts_text(args.input) if args.input is not None else ("{}", "facts")
    facts, at = parse_facts_json(text, name), args.at
    within: tuple[str, ...] = ()
    if _is_example(facts):   # an example of examples/: its facts, at its time
        if facts["query"] != args.query:
            raise UsageError(f"{name} is an example of {facts['query']}, not {args.query}",
                             Location(name), f"neocrm-policy eval {facts['query']} "
                             f"--input {name}")
        at = at if at is not None else facts.get("at")
        facts, within = facts.get("facts") or {}, ("facts",)
    try:
        decision = policies.decide(args.query, facts, at=at, partial=args.missing)
    except FactError as error:
        raise in_input(error, text, name, within) from None
    if args.format == "json":
        print(decision.to_json(indent=2))
    else:
        print(decision.explain())
    return EXIT_OK


def _is_example(document) -> bool:
    """An example file (`examples/`): its query, its facts, perhaps its time and title."""
    return type(document) is dict and "query" in document and "facts" in document \
        and set(document) <= {"title", "query", "at", "facts", "note"}


BATCH_STACK = ("orjson", "pyarrow", "tqdm", "matplotlib")


def cmd_eval_batch(args) -> int:
    if args.input is not None:
        raise UsageError("give the facts with --input or the records with --batch, not both")
    if getattr(args, "missing", False):
        raise UsageError("--missing answers one set of facts; it does not apply to --batch")
    try:
        from .batch import BatchOptions, run_batch
        from .batch.summary import summary_html, summary_table
    except ModuleNotFoundError as exc:
        if exc.name not in BATCH_STACK:
            raise
        raise UsageError(f"--batch needs {exc.name}, which is not installed", None,
                         "pip install 'neocrm-policy[batch]'") from None
    from .batch.running import check_not_input, plan_workers
    if args.summary_out:
        check_not_input(args.batch, args.summary_out, "--summary-out")
        if args.out != "-" and os.path.abspath(args.out) == os.path.abspath(args.summary_out):
            raise UsageError(f"--out and --summary-out are both {args.out}", None,
                             "give the summary page another file")
    workers = plan_workers(args.jobs)
    jobs = workers.count
    if workers.why_fewer and not args.quiet:
        print(f"--jobs {args.jobs}: {workers.why_fewer}", file=sys.stderr)
    shown = not args.quiet and sys.stderr.isatty() and args.out != "-"
    existed = args.out != "-" and os.path.lexists(args.out)
    try:
        report = run_batch(BatchOptions(
            query=args.query, policies=policy_folder(args.policies), source=args.batch,
            out=args.out, at=args.at, id_column=args.id_column, trace=args.trace, jobs=jobs,
            in_format=args.in_format, out_format=args.out_format,
            summary=bool(args.summary or args.summary_out or args.by), by=args.by,
            progress=shown))
    except (KeyboardInterrupt, Terminated) as stop:
        if args.out == "-":
            raise
        how = "interrupted" if isinstance(stop, KeyboardInterrupt) else "terminated"
        print(f"{how}: {args.out} not written, as the batch did not finish"
              + ("; the file there before is kept as it was" if existed else ""),
              file=sys.stderr)
        return EXIT_INTERRUPTED if how == "interrupted" else EXIT_TERMINATED
    if args.summary or args.by:
        print(summary_table(report.summary, args.by),
              file=sys.stderr if args.out == "-" else sys.stdout)
    if args.summary_out:
        from .files import write_atomically
        page = summary_html(report.summary, args.by, f"{args.query}: {args.batch}",
                            report.lines())
        try:
            write_atomically(args.summary_out, page)
        except OSError as exc:
            raise UsageError(f"cannot write {args.summary_out}: {exc.strerror}",
                             Location(args.summary_out), "give a writable file") from None
    if not args.quiet:
        for line in report.lines():
            print(line, file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_FAILED


class _Listed(TypedDict):
    """One query as `list` shows it (its JSON, with --format json)."""

    query: str
    title: str
    clauses: list[str]
    inputs: dict[str, str]
    results: dict[str, str]


def cmd_list(args) -> int:
    policies = _policy_set(args.policies)
    rows: list[_Listed] = []
    for query in policies.queries:
        policy = policies.policies[query]
        compiled = policies.compiled(query)
        rows.append({
            "query": query, "title": policies.say(policy.title, query),
            "clauses": list(policy.clauses),
            "inputs": {p: str(i.type.not_null()) + (" (optional)" if i.optional else "")
                       for p, i in policies.facts_read(query).items()},
            "results": {n: str(compiled.checked.decision_types[n])
                        for n in compiled.outputs},
        })
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    for row in rows:
        print(f"{row['query']}: {row['title']} (clause {', '.join(row['clauses'])})")
        inputs = ", ".join(f"{p}: {t}" for p, t in row["inputs"].items()) or "none"
        print(f"  facts:   {inputs}")
        print("  results: " + ", ".join(f"{n}: {t}" for n, t in row["results"].items()))
    return EXIT_OK


def cmd_lsp(args) -> int:
    try:
        from .lsp.server import main as serve
    except ImportError as missing:
        raise UsageError(f"the language server needs pygls ({missing.name} is missing)",
                         None, "install the lsp extra: pip install 'neocrm-policy[lsp]'") \
            from None
    serve()
    return EXIT_OK


def cmd_types(args) -> int:
    from .deciding.result_types import result_types
    policies = _policy_set(args.policies)
    for query in args.queries:
        policies.versions(query)     # an unknown query: its error, with did-you-mean
    print(result_types(policies, args.queries or None), end="")
    return EXIT_OK


def cmd_review(args) -> int:
    from .authoring import marks
    folder = policy_folder(args.folder)
    policies = _policy_set(str(folder))
    if args.confirm:
        confirmed = marks.confirm(policies, args.confirm, folder)
        print(f"{len(confirmed)} piece{'s' if len(confirmed) != 1 else ''} of prose "
              f"confirmed; the marks are in {folder / marks.RECORD}")
        return EXIT_OK
    waiting = marks.marks(policies, folder)
    if args.format == "json":
        print(json.dumps([{**mark.warning().to_dict(), "name": mark.piece.id}
                          for mark in waiting], indent=2))
    elif marks.read_record(folder) is None:
        print(f"{folder} keeps no review marks; start them with "
              "`neocrm-policy review --confirm all`")
    elif not waiting:
        print("no prose awaits review")
    else:
        for mark in waiting:
            where = mark.piece.location
            place = f"{where.file}:{where.line}: " if where is not None else ""
            said = "; ".join(mark.changes) if mark.changes else "never reviewed"
            print(f"{place}“{mark.piece.id}”: {said}")
        print(f"{len(waiting)} piece{'s' if len(waiting) != 1 else ''} of prose to re-read; "
              "confirm each that still holds: neocrm-policy review --confirm \"NAME\" "
              "(or all)")
    return EXIT_FAILED if waiting else EXIT_OK


def cmd_outdated(args) -> int:
    from .authoring.review import terms_to_review
    reviews = terms_to_review(_policy_set(args.folder), args.at, args.within)
    if args.format == "json":
        print(json.dumps([r.to_dict() for r in reviews], indent=2))
    elif not reviews:
        print(f"no term is past or within {args.within} days of its review date")
    for review in reviews if args.format == "text" else ():
        print(f"{review.location.file}:{review.location.line}: {review.describe()}")
    return EXIT_FAILED if any(r.overdue for r in reviews) else EXIT_OK


def cmd_schema(args) -> int:
    from .loading.loader import schema_of
    print(json.dumps(schema_of(args.kind), indent=2))
    return EXIT_OK


def cmd_test(args) -> int:
    from .authoring.testing import render_failure, run_tests
    folder = policy_folder(args.folder)
    accepted = None
    if args.accept:
        from .authoring.accepting import accept
        accepted = accept(folder)
    report = accepted.report if accepted else run_tests(folder)
    uncovered = report.uncovered if args.coverage else []
    if args.format == "json":
        print(json.dumps({
            **({"moved": [m.to_dict() for m in accepted.moves],
                "not_accepted": [n.to_dict() for n in accepted.not_accepted]}
               if accepted else {}),
            "passed": report.passed, "failed": report.failed,
            "failures": [{"file": r.case.file, "line": r.case.location.line,
                          "query": r.case.query, "case": r.case.name,
                          "problems": r.problems} for r in report.results if not r.passed],
            **({"coverage": round(report.coverage, 4),
                "uncovered": [{"query": q, "rule": p, "location": str(w)}
                              for q, p, w in uncovered]} if args.coverage else {}),
        }, indent=2, ensure_ascii=False))
    else:
        for result in report.results:
            if not result.passed:
                print(render_failure(result))
                print()
        for line in [*accepted.moves, *accepted.not_accepted] if accepted else ():
            print(line)
        moved_cases = sorted({(Path(m.file).name, m.case) for m in accepted.moves}
                             if accepted else ())
        if moved_cases:
            print(f"the name of each case whose result moved may now be wrong; re-read "
                  f"{'it' if len(moved_cases) == 1 else f'these {len(moved_cases)}'} "
                  "(neocrm-policy review lists them where review marks are kept):")
            for file, case in moved_cases:
                print(f"  {file}: “{case}”")
        if args.coverage:
            total = len(report.rules)
            print(f"coverage: {total - len(report.uncovered)} of {total} rules exercised "
                  f"({report.coverage:.0%})")
            for query, path, where in uncovered:
                print(f"  {where}: {query}: rule {path} is not exercised by any case")
        print(f"policy tests of {folder}: {report.summary()}"
              + (f"; {accepted.summary()}" if accepted else ""))
    refused = accepted is not None and accepted.not_accepted
    return EXIT_FAILED if report.failed or uncovered or refused else EXIT_OK


def cmd_examples(args) -> int:
    from .authoring.examples import load_examples
    from .language.facts import in_input
    policies = _policy_set(args.policies)
    path = Path(args.path) if args.path else bundled("examples")
    outputs = []
    for example in load_examples(path, required=True):
        try:
            decision = policies.decide(example.query, example.facts, at=example.at)
        except FactError as error:
            raise in_input(error, example.text, str(example.file), ("facts",)) from None
        if args.format == "json":
            outputs.append({"example": example.title, **decision.to_dict()})
            continue
        print(f"== {example.title} ({example.file.name})")
        print(decision.explain())
        print()
    if args.format == "json":
        print(json.dumps(outputs, indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_diff(args) -> int:
    from .authoring.redline import load_side, redline
    if not args.impact and (args.dask or args.scheduler or args.workers is not None):
        raise UsageError("--dask measures the impact of the change on records", None,
                         "give the records with --impact DATA")
    heading = None
    if args.old is None or args.new is None:
        folder = policy_folder(None)
        if args.old is not None and Path(args.old).is_dir():
            old = load_side(args.old, args.folder)
        else:
            top = _repository_of(folder)
            old = load_side(args.old or "HEAD", folder.resolve().relative_to(top).as_posix(),
                            top)
        heading = f"{folder}: the edits not yet committed, against the last commit" \
            if args.old is None else f"{folder} as it is now, against {args.old}"
        new = load_side(str(folder), args.folder)
    else:
        old, new = load_side(args.old, args.folder), load_side(args.new, args.folder)
    changes = redline(old, new)
    report = _impact(args, old, new, changes) if args.impact else None
    if report is not None and args.summary:
        from .impact.report import summary_line
        print(summary_line(report))
    elif args.format == "json":
        from .impact.report import json_report
        print(json.dumps({"changes": [c.to_dict() for c in changes],
                          **({"impact": json_report(report)} if report else {})},
                         indent=2, ensure_ascii=False, default=str))
    elif args.format == "html":
        from .impact.report import html_report
        print(html_report(report) if report else _changes_html(changes, heading), end="")
    else:
        markdown = args.format == "markdown"
        if heading:
            print(f"# {heading}\n" if markdown else heading)
        for change in changes:
            print(f"{'- ' if markdown else ''}{_MARK[change.kind]} {change.text}")
        if not changes:
            print("no changes")
        if report is not None:
            from .impact.report import text_report
            print()
            print(text_report(report, markdown), end="")
    if args.fail_if_changed and report is not None and report.changed:
        return EXIT_FAILED
    changed = bool(changes) or bool(report and report.changed)
    return EXIT_FAILED if args.exit_code and changed else EXIT_OK


def _impact(args, old, new, changes):
    """`diff --impact`: the records of each DATA decided under both versions."""
    from .impact import measure_impact
    from .impact.alone import touched_queries
    from .impact.records import data_format, read_items
    from .deciding.engine import evaluation_time
    at = evaluation_time(args.at)
    query = args.query
    if query is None:
        touched = sorted(touched_queries(changes, old, new))
        query = touched[0] if len(touched) == 1 else None
    elif query not in old.queries and query not in new.queries:
        old.versions(query)          # an unknown query, told with the queries there are

    def sources():
        for path in args.impact:
            where = Path(path)
            fmt = data_format(where, args.data_format)
            if fmt in ("jsonl", "csv", "parquet") and query is None:
                raise UsageError(
                    f"the records of {path} do not say which query they are for, and the "
                    "changes touch " + (", ".join(sorted(touched_queries(changes, old, new)))
                                        or "no query"), Location(path),
                    "give --query, e.g. --query support.sla")
            yield where, fmt

    if args.dask or args.scheduler is not None or args.workers is not None:
        if not args.dask:
            raise UsageError(f"{'--scheduler' if args.scheduler else '--workers'} is for "
                             "measuring on Dask", None, "add --dask")
        if args.scheduler is not None and args.workers is not None:
            raise UsageError("--workers starts worker processes on this machine; a "
                             "scheduler named by --scheduler has its own", None,
                             "leave out one of --workers and --scheduler")
        return _impact_on_dask(args, old, new, changes, list(sources()), query, at)

    def chunks():
        for where, fmt in sources():
            yield from read_items(where, fmt, old if query in old.queries else new, query,
                                  args.id_column)
    return measure_impact(old, new, changes, chunks(), at, list(args.impact))


def _impact_on_dask(args, old, new, changes, sources, query, at):
    """`diff --impact --dask`: the same report, measured in partitions on a Dask cluster."""
    from .batch.cluster import dask_client
    from .impact.parts import measure_on_dask
    with dask_client(args.scheduler, args.workers) as client:
        return measure_on_dask(client, old, new, changes, sources, query, args.id_column,
                               at, list(args.impact))


def cmd_replay(args) -> int:
    from .impact.measure import measure_replay
    from .impact.records import read_items
    from .impact.report import html_report, json_report, summary_line, text_report
    folder = policy_folder(args.policies)
    current = _policy_set(str(folder))

    def chunks():
        for path in args.log:
            yield from read_items(Path(path), "log", current, None, None)
    from .deciding.engine import evaluation_time
    report = measure_replay(current, chunks(), evaluation_time(None), list(args.log))
    if args.summary:
        print(summary_line(report))
    elif args.format == "json":
        print(json.dumps(json_report(report), indent=2, ensure_ascii=False, default=str))
    elif args.format == "html":
        print(html_report(report), end="")
    else:
        print(text_report(report, args.format == "markdown"), end="")
    return EXIT_FAILED if args.fail_if_changed and report.changed else EXIT_OK


def _changes_html(changes, heading) -> str:
    import html
    items = "".join(f"<li>{html.escape(c.text)}</li>" for c in changes) or \
        "<li>no changes</li>"
    title = html.escape(heading or "What changed")
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title></head><body>\n<h1>{title}</h1>\n<ul>{items}</ul>\n"
            "</body></html>\n")


_MARK = {"added": "+", "removed": "-", "changed": "~"}


def _repository_of(folder: Path) -> Path:
    """The git repository a policy folder is kept in, for `diff` with no revisions."""
    import subprocess
    found = subprocess.run(["git", "-C", str(folder), "rev-parse", "--show-toplevel"],
                           capture_output=True, text=True)
    if found.returncode != 0:
        raise UsageError(f"{folder} is not in a git repository, so it has no last commit "
                         "to compare with", Location(str(folder)),
                         "give two folders: neocrm-policy diff OLD-FOLDER NEW-FOLDER")
    return Path(found.stdout.strip()).resolve()


def cmd_fmt(args) -> int:
    from .authoring.formatting import format_file, rule_file_paths
    paths = [Path(p) for p in args.paths] or [policy_folder(None)]
    failed = changed = read = 0
    for path in rule_file_paths(paths):
        read += 1
        outcome = format_file(path, check=args.check or args.diff)
        if outcome.error is not None:
            print(outcome.error.render(), file=sys.stderr)
            failed += 1
        elif outcome.changed:
            changed += 1
            if args.diff:
                print(outcome.diff, end="")
            else:
                print(f"{'would reformat' if args.check else 'reformatted'} {path}")
    if failed:
        return EXIT_FAILED
    if not args.diff:   # say what was looked at, so that silence is never the answer
        where = ", ".join(str(p) for p in paths)
        files = f"{read} file{'s' if read != 1 else ''}"
        if args.check:
            print(f"{where}: {files} checked, {changed or 'none'} to reformat"
                  if changed else f"{where}: {files} checked, all in the canonical layout")
        else:
            print(f"{where}: {files} read, {changed} reformatted")
    return EXIT_FAILED if (args.check and changed) else EXIT_OK


def cmd_serve(args) -> int:
    try:
        from .service import ServiceConfig
        from .service.config import DOCS_URL, DOCS_VARIABLE
        from .deciding.served import load_served
        from .service.server import run
    except ImportError as exc:
        raise UsageError(f"serve needs the web stack ({exc.name} is not installed)", None,
                         "pip install 'neocrm-policy[serve]'") from None
    folder = policy_folder(args.policies)
    config = ServiceConfig(
        policies=str(folder.resolve()), host=args.host, port=args.port,
        workers=args.workers, decision_log=args.decision_log,
        log_max_bytes=args.log_max_bytes, log_backups=args.log_backups,
        log_queue=args.log_queue, mask=tuple(args.mask), max_body_bytes=args.max_body_bytes,
        max_batch=args.max_batch, decision_timeout=args.decision_timeout,
        header_timeout=args.header_timeout, body_timeout=args.body_timeout,
        watch=args.watch, admin_token_file=args.admin_token_file,
        docs_url=args.docs_url or os.environ.get(DOCS_VARIABLE) or DOCS_URL)
    config.check_address()               # a host or port that cannot be used, a log
    config.check_log_path()              # path that cannot be written, and an
    config.admin_token()                 # unreadable token file are reported now
    served = load_served(folder)         # a bad folder is reported before the port opens
    print(f"serving {folder} (revision {served.revision}, {len(served.policies.queries)} "
          f"queries) on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    run(config, served)
    return EXIT_OK


COMMANDS = {"validate": cmd_validate, "eval": cmd_eval, "list": cmd_list,
            "schema": cmd_schema, "test": cmd_test, "examples": cmd_examples,
            "diff": cmd_diff, "fmt": cmd_fmt, "outdated": cmd_outdated, "review": cmd_review,
            "types": cmd_types, "lsp": cmd_lsp, "serve": cmd_serve, "replay": cmd_replay}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
