"""The documentation site: built from the rules, strict, and every example in it runs.

A changed parameter in a copy of the policies shows up on the rendered pages; every
```python block in README.md and docs/ runs (the Spark recipe wherever PySpark and Java
are installed; elsewhere it is skipped, saying why); every ```expr line evaluates to the
value it states; every ```console command succeeds; every ```yaml and ```json example
loads or passes."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.helpers import REFERENCE, build_site, copy_policies, page_text, spark_missing
import neocrm_policy
from neocrm_policy.language.checker import FUNCTIONS
from neocrm_policy.cli import main
from neocrm_policy.authoring.playground import evaluate
from neocrm_policy.authoring.validation import warnings_of
from neocrm_policy.authoring.testing import run_tests

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
WALKTHROUGH = DOCS / "editors" / "new-policy.md"
"""Run step by step, in order (`test_the_new_policy_walkthrough_prints_what_it_shows`)."""
PAGES = [ROOT / "README.md"] + sorted(p for p in DOCS.rglob("*.md")
                                      if "examples" not in p.parts and p != WALKTHROUGH)


def blocks(kind: str):
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for n, match in enumerate(re.finditer(rf"```{kind}\n(.*?)```", text, re.S)):
            yield pytest.param(match.group(1), id=f"{page.relative_to(ROOT)}#{n}")


def test_site_shows_a_changed_parameter_and_every_policy(tmp_path):
    policies = tmp_path / "policies"
    copy_policies(policies)
    sla = policies / "support-sla.yaml"
    sla.write_text(sla.read_text(encoding="utf-8").replace("      4: 2 hours", "      4: 3 hours"),
                   encoding="utf-8")
    site = build_site(tmp_path, policies)
    table = page_text(site, "terms/service-levels")
    assert re.search(r"★★★★ \(4 stars\).*?Within 1 hour\s+Within 3 hours", table, re.S)
    assert "4: 3 hours" in page_text(site, "terms/support-sla")
    for query in neocrm_policy.load(policies).queries:
        slug = query.replace(".", "-").replace("_", "-")
        assert (site / "terms" / slug / "index.html").exists(), query
    liability = (site / "terms" / "liability-data-security" / "index.html").read_text()
    assert "<strong>This term limits or exempts" in liability
    conditions = page_text(site, "terms/liability-data-security")
    # a choice of a fact in words, never its code name
    assert re.search(r"applies when\s+breach cause\s+is gross negligence and\s+"
                     r"liability cap\s+is given", conditions)
    assert "“gross_negligence”" not in conditions
    keys = page_text(site, "editors/keys")
    for key in ("entry_label", "for_each_key_of", "observe_holidays", "expect_error", "signed"):
        assert f" {key} " in keys, key
    errors = page_text(site, "editors/errors")
    assert "NP030/policy.yaml:" in errors and "did you mean" in errors
    assert "Common mistakes" in errors and "write a duration such as" in errors


@pytest.mark.parametrize("code", list(blocks("python")))
def test_python_examples_run(code, monkeypatch, capsys):
    """Each example runs as written, with `load()` giving the tests' own policies in place
    of the bundled ones: the examples show how the API answers, on terms of their own, so
    an editor's change of a bundled term never breaks them."""
    if "pyspark" in code and spark_missing():
        pytest.skip(f"the Spark example is not run: {spark_missing()}")
    from neocrm_policy.deciding import engine
    from neocrm_policy.source import text as source
    monkeypatch.setattr(engine, "bundled",
                        lambda name: REFERENCE if name == "policies" else source.bundled(name))
    monkeypatch.chdir(ROOT)
    exec(compile(textwrap.dedent(code), "<docs example>", "exec"), {})  # noqa: S102


@pytest.mark.parametrize("lines", list(blocks("expr")))
def test_expression_examples_evaluate_as_stated(lines):
    examples = [line.split("⇒") for line in lines.strip().splitlines()]
    values = evaluate([expression for expression, _ in examples], policies=REFERENCE)
    for (expression, expected), value in zip(examples, values, strict=True):
        assert value == json.loads(expected), expression


def test_every_function_has_an_example_that_evaluates():
    values = evaluate([f.example for f in FUNCTIONS.values()], policies=REFERENCE)
    assert len(values) == len(FUNCTIONS)
    by_name = dict(zip(FUNCTIONS, values, strict=True))
    assert by_name["each"] == [4, 2] and by_name["open_at"] == ["hotline"]
    assert by_name["min"] == "PT1H30M" and by_name["days_between"] == 60


@pytest.mark.parametrize("commands", list(blocks("console")))
def test_console_examples_succeed(commands, capsys, tmp_path, monkeypatch):
    """Each command succeeds as written, run in a repository of policies (the tests' own,
    as `policies/`), as an editor runs it in a checkout."""
    copy_policies(tmp_path / "policies")
    monkeypatch.chdir(tmp_path)
    for line in commands.strip().splitlines():
        assert line.startswith("$ neocrm-policy "), line
        assert main(shlex.split(line[len("$ neocrm-policy "):])) == 0, line


ERROR_EXAMPLES = DOCS / "examples" / "errors"


def _all_codes():
    from neocrm_policy import errors
    return sorted({c.code for c in vars(errors).values()
                   if isinstance(c, type) and issubclass(c, errors.PolicyError)} - {"NP000"})


@pytest.mark.parametrize("code", _all_codes())
def test_every_error_code_has_a_documented_example_that_raises_it(code, monkeypatch):
    """Each error code has a page section with a real example: the example must still
    raise exactly that code, located, with a hint."""
    folder = ERROR_EXAMPLES / code
    assert folder.is_dir(), f"docs/examples/errors/{code} is missing"
    assert (folder / "fix.md").exists()
    monkeypatch.chdir(ERROR_EXAMPLES)
    with pytest.raises(neocrm_policy.PolicyError) as caught:
        policies = neocrm_policy.load(code)
        for warning in warnings_of(policies):
            raise warning   # a warning is reported, not raised
        request = json.loads((folder / "decide.json").read_text(encoding="utf-8"))
        policies.decide(request["query"], request.get("facts"), at=request.get("at"))
    assert caught.value.code == code
    assert caught.value.hint
    located = getattr(caught.value, "errors", [caught.value])
    # an unknown query or a bad `at` is an argument of the call, not a place in a file
    assert all(e.location is not None for e in located) or code in ("NP051", "NP052")


def _policy_file_declaring(folder: Path, fragment: dict) -> Path:
    """The bundled rule file that declares every parameter, decision and invariant the
    fragment names."""
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "policy" not in data:
            continue
        invariants = {i["id"] for i in data.get("invariants", [])}
        if all(set(fragment.get(key, {})) <= set(data.get(key, {}))
               for key in ("parameters", "decisions")) and \
                {i["id"] for i in fragment.get("invariants", [])} <= invariants:
            return path
    raise AssertionError(f"no bundled policy declares {fragment}")


def _put_fragment(path: Path, fragment: dict) -> None:
    """Replace the named items of a rule file by the fragment's, keeping their other keys
    (description, clause) so that the result is a whole rule file again."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key in ("parameters", "decisions"):
        for name, item in fragment.get(key, {}).items():
            body = {"value", "versions", "rules", "default"}
            kept = {k: v for k, v in data[key][name].items()
                    if not (k in body and body & set(item))}
            data[key][name] = kept | item
    for invariant in fragment.get("invariants", []):
        data["invariants"] = [invariant if i["id"] == invariant["id"] else i
                              for i in data["invariants"]]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")


@pytest.mark.parametrize("text", list(blocks("yaml")) + list(blocks("json")))
def test_yaml_and_json_examples_are_real(text, policies_copy):
    """Each rule-file fragment, policy test, customer instrument and editor setting shown
    in the docs is put to work: fragments and instruments load into a copy of the bundled
    policies, test files pass, and the paths and hook names they mention exist."""
    data = yaml.safe_load(text)
    if data is None:  # the schema modeline, relative to a file in policies/
        path = re.search(r"\$schema=(\S+)", text).group(1)
        assert (ROOT / "policies" / path).resolve().is_file(), path
    elif "repos" in data:
        hooks = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
        assert {h["id"] for repo in data["repos"] for h in repo["hooks"]} <= hooks
    elif any(key.startswith("glspc.") for key in data):   # VS Code's generic LSP client
        _starts_the_language_server([data["glspc.server.command"],
                                     *data["glspc.server.commandArguments"]])
        assert data["glspc.server.languageId"] == ["yaml"]
    elif "yaml.schemas" in data:
        for schema, files in data["yaml.schemas"].items():
            assert (ROOT / schema).is_file(), schema
            assert list(ROOT.glob(files)), files
    elif "cases" in data:
        tests = policies_copy / "tests"
        shutil.rmtree(tests)
        tests.mkdir()
        (tests / "example.yaml").write_text(text, encoding="utf-8")
        report = run_tests(policies_copy)
        assert report.failed == 0 and report.passed == len(data["cases"]), report.summary()
    elif "customer" in data:
        (policies_copy / "customers" / f"{data['customer']}.yaml").write_text(
            text, encoding="utf-8")
        overlays = neocrm_policy.load(policies_copy).overlays
        assert data["customer"] in {o.customer for o in overlays}
    elif "calendars" in data:   # a calendar's keys, put into the copy's calendars.yaml
        path = policies_copy / "calendars.yaml"
        whole = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, spec in data["calendars"].items():
            whole["calendars"][name] = {**whole["calendars"].get(name, {}), **spec}
        path.write_text(yaml.safe_dump(whole, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        calendars = neocrm_policy.load(policies_copy).calendars
        assert all(calendars[name].own_days or "hours" in data["calendars"][name]
                   for name in data["calendars"])
    else:
        assert set(data) <= {"parameters", "decisions", "invariants"}, set(data)
        _put_fragment(_policy_file_declaring(policies_copy, data), data)
        neocrm_policy.load(policies_copy)


def _starts_the_language_server(command: list[str]) -> None:
    """An editor's setting starts `neocrm-policy lsp`, a command the CLI has."""
    from neocrm_policy.cli import main
    assert command == ["neocrm-policy", "lsp"], command
    assert main([command[1], "--help"]) == 0


@pytest.mark.parametrize("text", list(blocks("toml")))
def test_helix_settings_start_the_language_server_for_yaml(text):
    import tomllib
    data = tomllib.loads(text)
    server = data["language-server"]["neocrm-policy"]
    _starts_the_language_server([server["command"], *server["args"]])
    yaml_language = next(x for x in data["language"] if x["name"] == "yaml")
    assert "neocrm-policy" in yaml_language["language-servers"]


@pytest.mark.parametrize("text", list(blocks("lua")))
def test_neovim_settings_start_the_language_server_for_yaml(text):
    named = re.search(r'vim\.lsp\.config\("(\w+)", \{(.*?)\n\}\)', text, re.S)
    assert named and f'vim.lsp.enable("{named[1]}")' in text
    command = re.search(r"cmd = \{ (.*?) \}", named[2])[1]
    _starts_the_language_server([part.strip(' "') for part in command.split(",")])
    assert 'filetypes = { "yaml" }' in named[2]


@pytest.mark.parametrize("kind", ["policy", "overlay", "tests", "decision"])
def test_every_schema_key_is_described(kind):
    """Editors see these descriptions as hover help, and the keys page shows them."""
    from neocrm_policy.loading.loader import schema_of
    missing, stack = [], [("", schema_of(kind))]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key, spec in node.get("properties", {}).items():
                if not spec.get("description"):
                    missing.append(f"{path}.{key}")
            stack += [(f"{path}.{k}", v) for k, v in node.items() if k != "properties"]
            stack += [(f"{path}.{k}", v) for k, v in node.get("properties", {}).items()]
        elif isinstance(node, list):
            stack += [(path, item) for item in node]
    assert not missing, missing


def _shown(expected: str, printed: str) -> bool:
    """Whether `printed` reads as `expected` shows it: line by line, where `…` in a line
    stands for any text and a line that is only `…` for any number of lines."""
    patterns = [None if line.strip() == "…" else
                re.compile(".*".join(re.escape(part) for part in line.split("…")) + r"\Z")
                for line in expected.rstrip("\n").splitlines()]
    lines = printed.rstrip("\n").splitlines()

    def match(p: int, n: int) -> bool:
        if p == len(patterns):
            return n == len(lines)
        if patterns[p] is None:
            return any(match(p + 1, k) for k in range(n, len(lines) + 1))
        return n < len(lines) and bool(patterns[p].match(lines[n])) and match(p + 1, n + 1)
    return match(0, 0)


def test_the_new_policy_walkthrough_prints_what_it_shows(tmp_path, capsys, monkeypatch):
    """docs/editors/new-policy.md, step by step in a copy of a policy folder: each file it
    shows is saved (a clause-map entry replaces that clause's entry), each command is run,
    and what it prints is what the page shows next."""
    copy_policies(tmp_path / "policies")
    monkeypatch.chdir(tmp_path)
    text = WALKTHROUGH.read_text(encoding="utf-8")
    printed, steps = None, 0
    for match in re.finditer(r"(?:Save this as `(?P<path>[^`]+)`:\s*\n\n)?```(?P<kind>\w+)\n"
                             r"(?P<body>.*?)```", text, re.S):
        kind, body, path = match["kind"], match["body"], match["path"]
        if path:
            (tmp_path / path).write_text(body, encoding="utf-8")
        elif kind == "yaml" and body.startswith("  - clause: "):
            clause_map = tmp_path / "policies" / "clause-map" / "clause-map.yaml"
            old = clause_map.read_text(encoding="utf-8")
            clause = body.splitlines()[0]
            start = old.index(clause + "\n")
            end = old.find("\n  - clause: ", start + 1) + 1 or len(old)
            clause_map.write_text(old[:start] + body + old[end:], encoding="utf-8")
        elif kind == "console":
            capsys.readouterr()
            for line in body.strip().splitlines():
                assert line.startswith("$ neocrm-policy "), line
                main(shlex.split(line[len("$ neocrm-policy "):]))
            out, err = capsys.readouterr()
            printed = (out + err).replace(f"{tmp_path}/", "")
        elif kind in ("text", "memo"):   # a memo: as printed, its clauses linked on the site
            assert printed is not None and _shown(body, printed), (body, printed)
            printed, steps = None, steps + 1
    assert steps == 5
