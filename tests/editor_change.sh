#!/usr/bin/env bash
# A legal editor's ordinary change, end to end, on a fresh clone of the committed project:
# change terms by editing only YAML `value:` lines (and one channel's hours), see the
# policy tests fail naming the moved cases, accept the new results, and run `make test`;
# see validate --strict fail on the prose whose rules or terms changed (NP063), confirm it
# with `review`; then add a policy with its test and a customer instrument, confirm its
# new prose, and run `make test` again.
# Nothing outside policies/ may need touching. Run by .ci/run; `make editor-change` too.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet "$repo" "$work/clone"
# the agreement's text is the customer's, kept beside the clone (../shared/agreement/), as
# in CI; the clause map names it there, and the site quotes it
if [ -d "$repo/../shared/agreement" ]; then
  mkdir -p "$work/shared" && cp -r "$repo/../shared/agreement" "$work/shared/agreement"
fi
cd "$work/clone"
say() { printf '\n== %s\n' "$*"; }

say "set up the clone (make's own set-up, as an editor runs it)"
make --quiet .venv/.installed >/dev/null
bin=$PWD/.venv/bin

say "change terms: only value lines in policies/"
# edit FILE NAME [ENTRY] FORMULA: the value of a term (or one entry of a table), computed
# from the value written there (python: v is its number; the unit is kept)
edit() {
  "$bin/python" - "$@" <<'EOF'
import re, sys
from pathlib import Path
path, name, entry, formula = sys.argv[1:]
text = Path(path).read_text(encoding="utf-8")
block = re.search(rf"(?m)^(\s*){re.escape(name)}:\n", text)
assert block, f"{name} not in {path}"
key = entry or "value"
line = re.compile(rf"(?m)^(\s+{re.escape(key)}: )\"?(\d+)(:\d\d)?(-(\d+):(\d\d))?\"?(.*)$")
found = line.search(text, block.end())
assert found, f"{key} of {name} not in {path}"
old = found.group(0)
if found.group(4):   # hours "08:00-23:00": move the closing hour
    v = int(found.group(5))
    new = old.replace(f"-{found.group(5)}:", f"-{eval(formula):02d}:")
elif found.group(3):   # a time of day 06:00
    v = int(found.group(2))
    new = f"{found.group(1)}{eval(formula):02d}{found.group(3)}{found.group(7)}"
else:
    v = int(found.group(2))
    new = f"{found.group(1)}{eval(formula)}{found.group(7)}"
Path(path).write_text(text[:found.start()] + new + text[found.end():], encoding="utf-8")
print(f"{path}: {old.strip()}  ->  {new.strip()}")
EOF
}
edit policies/support-sla.yaml response_time 3 "v + 2"          # 3-star response time
edit policies/data-retention.yaml export_window "" "v + 30"     # the export window
edit policies/liability-data-security.yaml cap_multiple "" "v + 1"   # the liability cap
edit policies/maintenance-reboot.yaml night_ends "" "v - 1"     # the night reboot window
edit policies/calendars.yaml hotline monday-sunday "v - 1"      # the hotline's hours
edit policies/support-sla.yaml resolution_time 2 "v - 2"        # 2-star solution time
# the liability cap becomes a fixed amount: its basis, then the amount
"$bin/python" - <<'EOF'
from pathlib import Path
path = Path("policies/liability-data-security.yaml")
text = path.read_text(encoding="utf-8")
for old, new in (("    value: the annual fee paid\n", "    value: a fixed amount\n"),
                 ("    type: money\n    value: none\n",
                  "    type: money\n    value: CNY 200,000.00\n")):
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    print(f"{path}: {old.split()[-1]}  ->  {new.split(':', 1)[-1].strip()}")
path.write_text(text, encoding="utf-8")
EOF
window=$(grep -A4 '^  export_window:' policies/data-retention.yaml | sed -n 's/^    value: //p')
old_window=$(git show HEAD:policies/data-retention.yaml | grep -A4 '^  export_window:' |
             sed -n 's/^    value: //p')

say "neocrm-policy test: must fail and name the moved cases"
if "$bin/neocrm-policy" test >"$work/failed.txt" 2>&1; then
  echo "expected failing policy tests after the change"; cat "$work/failed.txt"; exit 1
fi
grep ': FAILED ' "$work/failed.txt"

say "neocrm-policy test --accept"
"$bin/neocrm-policy" test --accept
"$bin/neocrm-policy" test

say "validate --strict fails on the prose whose part changed, naming each"
if "$bin/neocrm-policy" validate --strict 2>"$work/review.txt"; then
  echo "expected validate --strict to fail on prose to re-read"; exit 1
fi
grep 'NP063' "$work/review.txt"
for piece in "the summary of liability.data_security" "the summary of support.sla" \
             "reading 2 of support.sla" "the name of case"; do
  grep -q "NP063 $piece" "$work/review.txt" || { echo "NP063 does not name $piece"; exit 1; }
done

say "neocrm-policy review lists them; the editor re-reads and confirms"
if "$bin/neocrm-policy" review >"$work/listed.txt"; then
  echo "expected prose to review"; exit 1
fi
tail -3 "$work/listed.txt"
"$bin/neocrm-policy" review --confirm all
"$bin/neocrm-policy" validate --strict

say "only policies/ changed"
outside=$(git status --porcelain | grep -v ' policies/' || true)
[ -z "$outside" ] || { echo "files outside policies/ changed:"; echo "$outside"; exit 1; }
git status --short

say "make test"
make test

say "the site states the new terms, nowhere the old ones"
"$bin/python" - "$old_window" "$window" <<'EOF'
import re, sys
from pathlib import Path
old, new = sys.argv[1:]
number = old.split()[0]
stale = re.compile(rf"(?<![\w.]){number}[- ](?:calendar |natural )?days?\b")
found = []
for page in sorted(Path("build/site").rglob("*.html")):
    html = page.read_text(encoding="utf-8")
    # code, the agreement's own words (quoted in blockquotes) and the pictures (drawn from
    # the checked rules and the examples' own times) are not prose that restates a term
    prose = re.sub(r"(?s)<(pre|code|script|style|svg|blockquote)\b.*?</\1>", " ", html)
    text = re.sub(r"<[^>]+>", " ", prose)
    # quotations (the agreement's words, or an example quoted) are not statements of a term
    text = re.sub(r"&quot;[^&]*?&quot;|\"[^\"]*\"|“[^”]*”", " ", text)
    found += [f"{page}: ...{text[max(0, m.start() - 40):m.end() + 20]!r}"
              for m in stale.finditer(text)]
    if page.parent.name == "data-retention" and new not in text:
        found.append(f"{page}: the new window {new!r} is not shown")
assert not found, "\n".join(found)
print(f"no page states {old!r} outside code; the retention page shows {new!r}")
EOF

say "validate flags a sentence that states a term's value by hand"
cp policies/data-retention.yaml "$work/retention.yaml"
sed -i "s/^summary: >$/summary: >\n  Data is kept for $window./" policies/data-retention.yaml
if "$bin/neocrm-policy" validate --strict 2>"$work/warned.txt"; then
  echo "expected validate --strict to fail"; exit 1
fi
grep -A3 'NP060' "$work/warned.txt"
cp "$work/retention.yaml" policies/data-retention.yaml

say "add a policy with its test, and a customer instrument"
cat > policies/maintenance-notice.yaml <<'EOF'
policy: maintenance.notice
title: Notice before a planned suspension
clauses: ["9"]
summary: >
  A planned suspension for maintenance or upgrades is announced at least {notice_period}
  before it starts.
inputs:
  suspension.announced_at:
    type: datetime
    description: when the suspension was announced
  suspension.starts_at:
    type: datetime
    description: when the suspension starts
parameters:
  notice_period:
    label: notice period
    description: How long before a planned suspension it is announced.
    clause: "9"
    value: 3 days
decisions:
  announced_in_time:
    description: Whether the suspension was announced at least the notice period before.
    clause: "9"
    value: suspension.announced_at + notice_period <= suspension.starts_at
EOF
cat > policies/tests/maintenance_notice.yaml <<'EOF'
query: maintenance.notice
cases:
  - name: announced a week before
    facts: {suspension: {announced_at: "2026-03-01T10:00:00+08:00", starts_at: "2026-03-08T02:00:00+08:00"}}
    expect: {announced_in_time: true}
  - name: announced the evening before
    facts: {suspension: {announced_at: "2026-03-07T20:00:00+08:00", starts_at: "2026-03-08T02:00:00+08:00"}}
    expect: {announced_in_time: false}
EOF
sed -i 's/^    policies: \[maintenance.reboot, outage.responsibility\]$/    policies: [maintenance.reboot, maintenance.notice, outage.responsibility]/' \
  policies/clause-map/clause-map.yaml
cat > policies/customers/initech.yaml <<'EOF'
customer: initech
instrument: Initech supplementary service agreement
signed: 2026-06-01
clause: "12"
summary: Initech's own export window of {data.retention:export_window}.
changes:
  data.retention:
    export_window: 120 days
EOF
cat >> policies/tests/data_retention.yaml <<'EOF'
  - name: Initech's own window
    at: 2027-01-05T10:00:00+08:00
    facts: {customer: {id: initech}, subscription: {ends_on: "2026-10-10"}}
    expect: {export_deadline: "2027-02-07", data_retained: true}
EOF
"$bin/neocrm-policy" review | tail -1 || true   # the new prose, never reviewed
"$bin/neocrm-policy" review --confirm all
"$bin/neocrm-policy" validate --strict
"$bin/neocrm-policy" test
make test

say "an editor's change went green end to end"
