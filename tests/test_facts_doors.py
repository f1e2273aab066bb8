"""Facts read one way whatever the door, and facts errors that stay bounded.

The doors are the Python API, `eval --input`, the service's single and batch decisions,
and `eval --batch` (JSON Lines, CSV, Parquet). A document one door refuses, every door
refuses, with the same code and words; a document of a thousand bad facts costs a list of
the first few and a count of the rest, never a reading of the text per problem.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neocrm_policy
from neocrm_policy.source import yaml_reader
from neocrm_policy.errors import FactError, FactErrors, UnknownFact
from neocrm_policy.language.facts import MAX_FACT_PROBLEMS, in_input, parse_facts_json

DATA = Path(__file__).parent / "data"
POLICIES = DATA / "policies"
AT = "2026-03-08T01:00:00+08:00"
NAME = "<request body>"   # a name that is no file, so no line is read back from disk
INCIDENT = {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}


@pytest.fixture(scope="module")
def policies():
    return neocrm_policy.load(POLICIES)


def _refused(policies, facts) -> FactError:
    with pytest.raises(FactError) as caught:
        policies.decide("support.sla", facts, at=AT)
    return caught.value


# Bounded errors (issue 22, finding 13) --------------------------------------------------

def _unknown_keys(count: int) -> str:
    return json.dumps({"incident": INCIDENT, **{f"k{i:04d}": i for i in range(count)}})


def test_a_thousand_unknown_facts_list_the_first_few_and_count_the_rest(policies):
    error = _refused(policies, json.loads(_unknown_keys(1000)))
    assert type(error) is FactErrors
    assert [e.fact for e in error.errors] == [f"k{i:04d}" for i in range(MAX_FACT_PROBLEMS)]
    assert error.more == 1000 - MAX_FACT_PROBLEMS
    assert error.message == (f"1000 problems with the facts (the first {MAX_FACT_PROBLEMS} "
                             f"shown, and {1000 - MAX_FACT_PROBLEMS} more)")
    assert error.to_dict()["more"] == 1000 - MAX_FACT_PROBLEMS
    assert error.render().splitlines()[-1] == error.message


def _past_the_cap(**rest) -> dict:
    """A document whose first `MAX_FACT_PROBLEMS` keys are unknown, then `rest`."""
    return {**{f"k{i:04d}": i for i in range(MAX_FACT_PROBLEMS)}, **rest}


@pytest.mark.parametrize(("query", "facts", "more"), [
    # each problem past the cap is counted once, wherever it is found: a value not
    # allowed (not counted again as missing), a key inside the same object after it, a
    # fact of the wrong type, an object given as a number, and a key after each of those
    ("support.sla", _past_the_cap(incident={"level": 9, "extra": 1}, zz=1), 4),
    ("ip.use", _past_the_cap(use={"action": "lend", "written_permit": False}), 1),
    ("support.sla", _past_the_cap(incident={"reported_at": "soon", "extra": 1}, zz=1), 3),
    ("support.sla", _past_the_cap(incident=5, zz=1), 2),
    # every required fact missing after the cap is counted, not only the first
    ("acceptance", _past_the_cap(), 4),
])
def test_problems_past_the_cap_are_each_counted_once(policies, query, facts, more):
    with pytest.raises(FactErrors) as caught:
        policies.decide(query, facts, at=AT)
    assert len(caught.value.errors) == MAX_FACT_PROBLEMS
    assert caught.value.more == more


def test_a_few_problems_are_all_listed_with_nothing_more_counted(policies):
    error = _refused(policies, {"incident": INCIDENT, "a": 1, "b": 2})
    assert [e.fact for e in error.errors] == ["a", "b"] and error.more == 0
    assert error.message == "2 problems with the facts" and "more" not in error.to_dict()


def test_did_you_mean_is_asked_for_the_problems_listed_only(policies, monkeypatch):
    """Each did-you-mean compares text with every fact's name: a thousand of them made
    the work grow with the number of keys, for messages nobody is shown."""
    asked = []
    close = difflib.get_close_matches
    monkeypatch.setattr(difflib, "get_close_matches",
                        lambda word, *rest, **kw: asked.append(word) or close(word, *rest, **kw))
    _refused(policies, json.loads(_unknown_keys(1000)))
    assert len(asked) == MAX_FACT_PROBLEMS


def test_a_key_longer_than_any_name_gets_no_did_you_mean(policies, monkeypatch):
    asked = []
    monkeypatch.setattr(difflib, "get_close_matches", lambda *a, **k: asked.append(a) or [])
    error = _refused(policies, {"incident": INCIDENT, "x" * 10_000: 1})
    assert type(error) is UnknownFact and asked == []
    assert error.hint.startswith("this query reads: ")


def test_pointing_at_many_problems_reads_the_text_once(policies, monkeypatch):
    """Each error used to compose the whole document again to find its key."""
    composed = []
    compose = yaml_reader.yaml.compose
    monkeypatch.setattr(yaml_reader.yaml, "compose",
                        lambda *a, **k: composed.append(1) or compose(*a, **k))
    text = _unknown_keys(50)
    error = in_input(_refused(policies, parse_facts_json(text, NAME)), text, NAME)
    assert len(composed) == 1
    assert [e.location.column for e in error.errors[:2]] == [
        text.index('"k0000"') + 1, text.index('"k0001"') + 1]


def test_problems_pointed_at_in_the_input_still_count_the_rest(policies):
    """eval --input and the service point each problem listed at its place in the text;
    the count of those not listed goes with them."""
    text = _unknown_keys(50)
    error = in_input(_refused(policies, parse_facts_json(text, NAME)), text, NAME)
    assert error.more == 50 - MAX_FACT_PROBLEMS
    assert error.message == (f"50 problems with the facts (the first {MAX_FACT_PROBLEMS} "
                             f"shown, and {50 - MAX_FACT_PROBLEMS} more)")
    first = text.index('"k0000"') + 1
    assert str(error.errors[0].location) == f"{NAME}:1:{first}"


# A dotted path written as one key (finding 19) ------------------------------------------

def test_a_dotted_path_as_one_key_is_told_to_nest_not_offered_its_own_name(policies):
    error = _refused(policies, {"incident.level": 4,
                                "incident": {"reported_at": INCIDENT["reported_at"]}})
    assert type(error) is UnknownFact and error.fact == "incident.level"
    assert "did you mean" not in error.hint
    assert error.message == ("unknown fact 'incident.level' for query 'support.sla': it is "
                             "written as one key with dots in it")
    assert error.hint.startswith('nest it, as {"incident": {"level": …}}')


def test_a_dotted_path_as_one_key_is_pointed_at_in_the_facts_not_the_rule_file(policies):
    text = '{"incident": {"reported_at": "2026-03-07T22:30:00+08:00"},\n "incident.level": 4}'
    refused = _refused(policies, parse_facts_json(text, NAME))
    error = in_input(refused, text, NAME)
    assert (error.location.file, error.location.line, error.location.column) == (NAME, 2, 2)
    assert error.width == len('"incident.level"')
    assert error.hint == (refused.hint + " (the query's facts are declared in "
                          f"{refused.location.file})")
    assert refused.location.file.endswith(".yaml")


def test_a_dotted_key_naming_no_fact_still_gets_a_did_you_mean(policies):
    error = _refused(policies, {"incident": INCIDENT, "incident.levl": 4})
    assert error.hint.startswith("did you mean 'incident.level'?")


def test_a_dotted_key_naming_no_fact_is_pointed_at_as_one_key(policies):
    """The key is found in the input as written, one key with a dot in it, not as the
    fact "levl" inside "incident" (which the input does not have)."""
    text = ('{"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"},\n'
            ' "incident.levl": 4}')
    error = in_input(_refused(policies, parse_facts_json(text, NAME)), text, NAME)
    assert (error.location.file, error.location.line, error.location.column) == (NAME, 2, 2)
    assert error.width == len('"incident.levl"')


# The five doors hold one reading (issue 22, findings 7 and 19) ---------------------------

class Service:
    """The decision service in this process: its ASGI application called directly on one
    event loop (no socket, no thread), with a decision log masking customer.id."""

    def __init__(self, folder: Path, log: Path) -> None:
        import asyncio

        from neocrm_policy.service import ServiceConfig, create_app
        self.loop = asyncio.new_event_loop()
        self.app = create_app(ServiceConfig(policies=str(folder), decision_log=str(log),
                                            mask=("customer.id",), decision_timeout=30.0))
        self.loop.run_until_complete(self.app.state.service.start())

    def post(self, path: str, body: bytes) -> tuple[int, dict]:
        return self.loop.run_until_complete(self._post(path, body))

    async def _post(self, path: str, body: bytes) -> tuple[int, dict]:
        sent: list[dict] = []
        given = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict:
            return given.pop() if given else {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1),
                 "server": ("127.0.0.1", 80),
                 "headers": [(b"content-type", b"application/json"),
                             (b"content-length", str(len(body)).encode())]}
        await self.app(scope, receive, send)
        status = next(m["status"] for m in sent if m["type"] == "http.response.start")
        data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return status, json.loads(data)

    def close(self) -> None:
        self.loop.run_until_complete(self.app.state.service.stop())
        self.loop.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    pytest.importorskip("starlette")
    running = Service(POLICIES, tmp_path_factory.mktemp("log") / "decisions.jsonl")
    yield running
    running.close()


_DECLARED_IN = re.compile(r" \((declared at|the query's facts are declared in) [^)]*\)$")


def _problem(error: dict, name: str) -> tuple:
    """One problem as every door must say it: its code, fact, words and hint, with the
    document's own name ("facts", "request body", "line 1") as `NAME` and the place in
    the input a door adds to a hint left out (that place is compared on its own)."""
    message = error["message"].replace(name, "NAME", 1)
    message = re.sub(r" at column \d+$", "", message)
    return (error["code"], error.get("fact"), message,
            _DECLARED_IN.sub("", error.get("hint") or ""))


def _outcome(answer: dict, name: str) -> tuple:
    """A door's answer as ("decided", result) or ("refused", code, problems, more)."""
    if "error" not in answer:
        return ("decided", answer["result"])
    error = answer["error"]
    problems = error.get("errors") or [error]
    return ("refused", error["code"], [_problem(e, name) for e in problems],
            error.get("more", 0))


def _column(answer: dict) -> int | None:
    """The column of the facts text an error names, if any: at its place in the text
    (`file` is the text, not a rule file), or in its words (a batch's "at column 6")."""
    error = answer.get("error") or {}
    if error.get("file") and not error["file"].endswith(".yaml") and error.get("column"):
        return error["column"]
    found = re.search(r" at column (\d+)$", error.get("message", ""))
    return int(found.group(1)) if found else None


def _doors(text: str, folder: Path, service: Service) -> dict[str, tuple[dict, int | None]]:
    """The answer of each door to one facts document (one line of JSON text), with the
    column of the document each names (None: no place in the document)."""
    from contextlib import redirect_stderr, redirect_stdout
    from io import StringIO

    from neocrm_policy.cli import main
    answers: dict[str, tuple[dict, int | None]] = {}
    try:                                     # the API, given the document as facts read it
        facts = parse_facts_json(text, "facts.json")
        decision = neocrm_policy.load(POLICIES).decide("support.sla", facts, at=AT)
        answers["api"] = ({"result": decision.to_dict()["result"]}, None)
    except FactError as error:
        data = {"error": error.to_dict()}
        answers["api"] = (data, error.location.column if error.location
                          and error.location.file == "facts.json" else None)
    facts_file = folder / "facts.json"
    facts_file.write_text(text, encoding="utf-8")
    out = StringIO()
    with redirect_stdout(out), redirect_stderr(StringIO()):
        main(["eval", "support.sla", "--policies", str(POLICIES), "--input", str(facts_file),
              "--at", AT, "--format", "json"])
    answer = json.loads(out.getvalue())
    if "error" in answer:
        answer["error"]["message"] = answer["error"]["message"].replace(
            str(facts_file), "facts.json", 1)
        if answer["error"].get("file") == str(facts_file):
            answer["error"]["file"] = "facts.json"
    answers["cli"] = (answer, _column(answer))
    status, answer = service.post("/v1/decisions/support.sla",
                                  ('{"facts": ' + text + ', "at": "' + AT + '"}').encode())
    column = _column(answer)
    answers["http"] = (answer, column - len('{"facts": ') if column else None)
    status, answer = service.post("/v1/decisions/support.sla/batch",
                                  ('{"items": [{"facts": ' + text + '}], "at": "' + AT
                                   + '"}').encode())
    if "results" in answer:
        item = answer["results"][0]
        answer = {"result": item["decision"]["result"]} if item["status"] == 200 else item
        column = None
    else:
        column = _column(answer)
        column = column - len('{"items": [{"facts": ') if column else None
    answers["http batch"] = (answer, column)
    lines, output = folder / "facts.jsonl", folder / "out.jsonl"
    lines.write_text(text + "\n", encoding="utf-8")
    with redirect_stderr(StringIO()):
        main(["eval", "support.sla", "--policies", str(POLICIES), "--batch", str(lines),
              "--out", str(output), "--at", AT, "--quiet"])
    record = json.loads(output.read_text(encoding="utf-8"))
    answers["batch"] = (record, _column(record))
    return answers


def _names(door: str) -> str:
    return {"api": "facts.json", "cli": "facts.json", "http": "request body",
            "http batch": "request body", "batch": "line 1"}[door]


_KEYS = ["incident", "level", "reported_at", "responded_at", "symptoms", "customer", "id",
         "standard_terms", "incident.level", "levl", "\u2028", "ｌevel", "x"]
_NUMBERS = ["4", "1", "-0", "4.0", "4.00", "1e0", "4E0", "1e3", "0.5", "-1", "-0.0",
            "12345678901234567890", "1" * 45, "4.000000000000000000001", "NaN", "-Infinity",
            "1e999999999999999999"]
_TEXTS = ['"2026-03-07T22:30:00+08:00"', '"2026-03-07T23:00:00"', '"２０２６-03-07T22:30:00+08:00"',
          '"４"', '"4"', '"\\u2028"', '"\u2028"', '"\\ud800"', '"\\u0000"', '"\x00"', '"acme"',
          '"nobody"', '"no_response"', '"2026-03-07T22:30:00\\u002b08:00"']


def _key(draw) -> str:
    return json.dumps(draw(st.sampled_from(_KEYS)), ensure_ascii=draw(st.booleans()))


@st.composite
def _value(draw, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["number", "text", "word", "list", "object"][:5 - (depth > 1) * 2]))
    if kind == "number":
        return draw(st.sampled_from(_NUMBERS))
    if kind == "text":
        return draw(st.sampled_from(_TEXTS))
    if kind == "word":
        return draw(st.sampled_from(["true", "false", "null"]))
    if kind == "list":
        items = draw(st.lists(st.one_of(st.sampled_from(_TEXTS), st.sampled_from(_NUMBERS)),
                              max_size=3))
        return "[" + ", ".join(items) + "]"
    return _object(draw, depth + 1)


def _object(draw, depth: int) -> str:
    pairs = [f"{_key(draw)}: {draw(_value(depth))}"
             for _ in range(draw(st.integers(0, 3)))]
    return "{" + ", ".join(pairs) + "}"


@st.composite
def _documents(draw) -> str:
    """One line of JSON text, most of them near a good support.sla incident: every spelling
    of a number, odd characters, keys given twice, dotted keys, customers, and now and
    then not JSON at all."""
    incident = [f'"level": {draw(st.sampled_from(_NUMBERS[:8]))}',
                f'"reported_at": {draw(st.sampled_from(_TEXTS[:4]))}']
    odd = draw(st.integers(0, 3)) == 0               # now and then, odd keys besides
    extra = [f"{_key(draw)}: {draw(_value(1))}" for _ in range(odd * draw(st.integers(1, 2)))]
    inner = draw(st.permutations(incident + extra))
    if draw(st.integers(0, 3)) == 0:
        inner = [*inner, inner[0]]                                  # a key given twice
    outer = [f'"incident": {{{", ".join(inner)}}}']
    odd = draw(st.integers(0, 3)) == 0
    outer += [f"{_key(draw)}: {draw(_value(0))}" for _ in range(odd * draw(st.integers(1, 2)))]
    if draw(st.integers(0, 5)) == 0:
        outer.append('"customer": {"id": ' + draw(st.sampled_from(['"acme"', '"nobody"', "4"]))
                     + "}")
    text = "{" + ", ".join(draw(st.permutations(outer))) + "}"
    if draw(st.integers(0, 9)) == 0:
        text = draw(st.sampled_from(["[" + text + "]", "null", text[:-1], text + " x",
                                     "4", '"facts"']))
    return text


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=_documents())
def test_every_door_reads_a_facts_document_alike(text, tmp_path, service):
    """The API, eval --input, the service (one decision and a batch of one) and eval
    --batch decide a document alike or refuse it alike: the same code, the same problems
    in the same words and hints, and where a door names a place in the document, the
    same character of it."""
    answers = _doors(text, tmp_path, service)
    if "is not valid JSON" in (answers["api"][0].get("error") or {}).get("message", ""):
        # not JSON at all: the service's body around it is another text, refused as
        # such, and only where both break is the same
        for door in ("http", "http batch"):
            answer, _ = answers.pop(door)
            assert answer["error"]["code"] == "NP050"
            assert answer["error"]["message"].startswith("request body ")
    outcomes = {door: _outcome(answer, _names(door)) for door, (answer, _) in answers.items()}
    assert len(set(map(repr, outcomes.values()))) == 1, "\n".join(
        f"{door}: {outcome}" for door, outcome in outcomes.items())
    columns = {door: column for door, (_, column) in answers.items()}
    assert len(set(columns.values()) - {None}) <= 1, columns
    if columns["api"] is not None:          # the text itself is refused: every door says where
        assert None not in columns.values(), columns


# eval --batch reads each record as eval --input reads a file (finding 7) ---------------

def _batch(folder: Path, name: str, data: bytes) -> tuple[int, list[dict], str]:
    """eval --batch on one input file: exit status, output records, standard error."""
    from contextlib import redirect_stderr
    from io import StringIO

    from neocrm_policy.cli import main
    given, output = folder / name, folder / "out.jsonl"
    given.write_bytes(data)
    shown = StringIO()
    with redirect_stderr(shown):
        status = main(["eval", "support.sla", "--policies", str(POLICIES), "--batch",
                       str(given), "--out", str(output), "--at", AT, "--quiet"])
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()] \
        if output.exists() else []
    return status, records, shown.getvalue()


def test_a_json_line_giving_a_key_twice_is_refused_not_decided_on_the_last(tmp_path):
    status, records, _ = _batch(tmp_path, "in.jsonl", (
        b'{"incident": {"level": 4, "level": 1, "reported_at": "2026-03-07T22:30:00+08:00"}}\n'
        b'{"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}}\n'))
    assert status == 1
    assert records[0] == {"line": 1, "error": {
        "code": "NP050", "fact": None,
        "message": 'line 1 gives the key "level" twice in one object at column 27',
        "hint": "give each fact once: JSON keeps only the last, silently"}}
    assert records[1]["result"]["level"] == 4


def test_a_json_line_giving_a_key_twice_in_another_spelling_is_refused(tmp_path):
    _, records, _ = _batch(tmp_path, "in.jsonl", (
        b'{"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}, '
        b'"incid\\u0065nt": {"level": 1}}\n'))
    assert records[0]["error"]["message"].startswith('line 1 gives the key "incident" twice')


@pytest.mark.parametrize("level", ["4.0", "4E0", "4.000"])
def test_a_whole_number_with_a_point_or_an_exponent_reads_as_eval_input_reads_it(
        tmp_path, policies, level):
    """JSON numbers are exact decimals in every door: 4.0 is the level 4 (the batch read
    it as a binary float, and refused it)."""
    text = '{"incident": {"level": ' + level + ', "reported_at": "2026-03-07T22:30:00+08:00"}}'
    _, records, _ = _batch(tmp_path, "in.jsonl", (text + "\n").encode())
    expected = policies.decide("support.sla", parse_facts_json(text, NAME), at=AT)
    assert records[0] == {"line": 1, "result": expected.to_dict()["result"]}


def test_a_line_that_is_not_one_object_is_refused_as_every_door_refuses_it(tmp_path, policies):
    _, records, _ = _batch(tmp_path, "in.jsonl", b'[1]\nnull\n')
    error = _refused(policies, [1])
    assert records[0]["error"] == {"code": error.code, "fact": None, "message": error.message,
                                   "hint": error.hint}
    assert records[1]["error"]["code"] == _refused(policies, None).code


def test_a_csv_header_naming_a_fact_twice_is_refused_before_any_record(tmp_path):
    status, records, shown = _batch(tmp_path, "in.csv", (
        b"incident.level,incident.reported_at,incident.level\n"
        b"4,2026-03-07T22:30:00+08:00,1\n"))
    assert status == 1 and records == []
    assert "NP050 the column 'incident.level' is given twice" in shown


def test_a_parquet_struct_field_and_a_dotted_column_of_one_fact_are_refused(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    table = pa.table({"incident": pa.array([{"level": 4,
                                             "reported_at": "2026-03-07T22:30:00+08:00"}]),
                      "incident.level": pa.array([1])})
    pq.write_table(table, tmp_path / "in.parquet")
    status, records, shown = _batch(tmp_path, "in.parquet",
                                    (tmp_path / "in.parquet").read_bytes())
    assert status == 1 and records == []
    assert "NP050 the column 'incident.level' is given twice" in shown


def test_a_parquet_column_named_twice_is_refused(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    table = pa.table([pa.array([4]), pa.array(["2026-03-07T22:30:00+08:00"]), pa.array([1])],
                     names=["incident.level", "incident.reported_at", "incident.level"])
    pq.write_table(table, tmp_path / "in.parquet")
    status, records, shown = _batch(tmp_path, "in.parquet",
                                    (tmp_path / "in.parquet").read_bytes())
    assert status == 1 and records == []
    assert "the column 'incident.level' is given twice" in shown


def test_a_batch_record_with_several_bad_facts_names_each(tmp_path):
    """It said only "3 problems with the facts"."""
    _, records, _ = _batch(tmp_path, "in.jsonl",
                           b'{"incident": {"levl": 4, "reported_at": "yesterday"}}\n')
    error = records[0]["error"]
    assert error["message"] == (
        "2 problems with the facts: unknown fact 'incident.levl' for query 'support.sla'; "
        "fact 'incident.reported_at' is \"yesterday\": expected a date and time like "
        "2026-03-07T22:30:00+08:00")
    assert [(e["code"], e["fact"]) for e in error["errors"]] == [
        ("NP054", "incident.levl"), ("NP055", "incident.reported_at")]
    assert error["errors"][0]["hint"].startswith("did you mean 'incident.level'?")


def test_an_unknown_customer_past_the_listed_problems_is_counted_not_listed(policies):
    facts = {"incident": INCIDENT, "customer": {"id": "nobody"},
             **{f"k{i:02d}": i for i in range(MAX_FACT_PROBLEMS)}}
    error = _refused(policies, facts)
    assert len(error.errors) == MAX_FACT_PROBLEMS and error.more == 1
    assert error.message.startswith(f"{MAX_FACT_PROBLEMS + 1} problems with the facts")


def test_a_long_line_is_shown_around_the_place_not_whole(policies):
    """A one-line document of a thousand keys was printed whole under each error."""
    text = _unknown_keys(1000)
    error = in_input(_refused(policies, parse_facts_json(text, NAME)), text, NAME)
    last = error.errors[-1]
    shown, caret = last.render().splitlines()[1:3]
    assert len(shown) <= 4 + 2 + 160 + 1 and shown.startswith("    …") and shown.endswith("…")
    at = caret.index("^")
    assert shown[at:at + last.width] == f'"k{MAX_FACT_PROBLEMS - 1:04d}"'
    assert last.location.column == text.index(f'"k{MAX_FACT_PROBLEMS - 1:04d}"') + 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 6, 10 ** 6)
    | st.integers(-10 ** 30, 10 ** 30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.sampled_from("0123456789.eE:,[]-+ \"\\ab"), max_size=12),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text("ab:1.", max_size=3), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=500, deadline=None)
@given(facts=st.dictionaries(st.text("abc", max_size=3), json_values, max_size=4),
       spaced=st.booleans())
def test_a_body_with_a_number_orjson_reads_as_a_float_is_read_again(facts, spaced):
    """A body holding a number orjson reads as a float (a fraction, an exponent, a whole
    number past 64 bits) is never taken as orjson read it, whatever the strings hold
    (digits, points, colons and brackets among them): it is read again as `eval
    --input` reads it."""
    import orjson

    from neocrm_policy.language.facts import _has_float, read_as_written
    text = json.dumps(facts, separators=(", ", ": ") if spaced else (",", ":")).encode()
    record = orjson.loads(text)
    if _has_float(record):
        assert read_as_written(text, record) is False
