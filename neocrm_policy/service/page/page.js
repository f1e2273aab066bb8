// The page to ask the agreement: a form built from a query's declared facts, the answer
// in the service's own words (`?explain=words`, the same pieces as the memo, so the page
// never formats a value itself) with the trace folded below (`trace=true`), each error
// beside its field and listed at the top, and the question in the address so that it
// can be shared. Plain DOM, no build step; text
// from the service is only ever set as textContent.
"use strict";

const state = { queries: [], current: null };

// Facts the page asks in "When and for whom", never among the facts: the customer once.
const OWN_FIELDS = { "customer.id": "customer", "customer.standard_terms": "customer.standard_terms" };

const FORM_HELP = {
  datetime: "A date and time, such as 2026-03-07T22:30 (Shanghai time unless an offset " +
            "such as +08:00 is given).",
  date: "A date, such as 2026-03-07.",
  money: "An amount in CNY, such as CNY 50,000.00 or 50000.",
  int: "A whole number.",
  decimal: "A number, such as 1.5.",
  duration: "A length of time, such as 4 hours.",
};

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

const slug = (path) => path.replaceAll(".", "-");
const fieldName = (path) => OWN_FIELDS[path] || path;
const fieldId = (name) => "field-" + slug(name);
const errorId = (name) => "error-" + slug(name);
const helpId = (name) => "help-" + slug(name);
const sentence = (text) => text && text.replace(/\p{L}/u, (letter) => letter.toUpperCase());

async function start() {
  const select = document.getElementById("query");
  try {
    const response = await fetch("/v1/queries");
    state.queries = (await response.json()).queries;
  } catch (error) {
    showProblems([{ text: "The service did not answer: " + error }]);
    return;
  }
  for (const query of state.queries) {
    select.append(el("option", { value: query.query, text: query.title }));
  }
  const address = new URLSearchParams(location.search);
  const wanted = address.get("query");
  if (wanted && state.queries.some((q) => q.query === wanted)) select.value = wanted;
  select.addEventListener("change", () => { showForm(); remember(false); });
  document.getElementById("ask").addEventListener("submit", (event) => {
    event.preventDefault();
    ask();
  });
  showForm();
  const filled = fill(address);
  document.body.dataset.ready = "yes";
  if (filled) await ask();
}

// The form ---------------------------------------------------------------------------------
function showForm() {
  const name = document.getElementById("query").value;
  const query = state.queries.find((q) => q.query === name);
  state.current = query;
  document.getElementById("query-summary").textContent = query.summary || "";
  const box = document.getElementById("facts");
  box.replaceChildren(el("legend", { text: "Facts" }));
  const paths = Object.keys(query.facts).filter((path) => !(path in OWN_FIELDS));
  if (!paths.length) {
    box.append(el("p", { class: "help", text: "This question needs no facts besides the time." }));
  }
  for (const path of paths) box.append(factField(path, query.facts[path]));
  const standard = document.querySelector('[data-field="customer.standard_terms"]');
  standard.hidden = !("customer.standard_terms" in query.facts);
  clearProblems();
  document.getElementById("answer").hidden = true;
}

function factField(path, fact) {
  const id = fieldId(path);
  const described = `${helpId(path)} ${errorId(path)}`;
  const list = fact.type.startsWith("list of ");
  const words = fact.allowed_words || (fact.allowed || []).map(String);
  const label = sentence(fact.description || path.replaceAll(/[._]/g, " "));
  const chosen = fact.allowed || fact.type === "bool";      // a choice needs no form said
  const help = chosen ? "" : list ? "One per line." : FORM_HELP[fact.type] || "";
  const wrap = el("div", { class: "field", "data-field": path });
  const helpText = el("p", { class: "help", id: helpId(path),
                             text: [fact.required ? "Required." : "", help].filter(Boolean).join(" ") });
  if (list && fact.allowed) {
    const group = el("fieldset", { class: "choices", id, "aria-describedby": described },
                     el("legend", { text: label }));
    fact.allowed.forEach((value, n) => {
      const choice = `${id}-${n}`;
      const box = el("input", { type: "checkbox", id: choice, name: path,
                                value: JSON.stringify(value) });
      group.append(el("label", { for: choice }, box, " " + words[n]));
    });
    wrap.append(group, helpText, el("p", { class: "error", id: errorId(path) }));
    return wrap;
  }
  let input;
  if (fact.allowed || fact.type === "bool") {
    input = el("select", { id, name: path });
    input.append(el("option", { value: "", text: fact.required ? "(choose)" : "(not given)" }));
    const values = fact.allowed || [true, false];
    const shown = fact.allowed ? words : ["yes", "no"];
    values.forEach((value, n) => {
      input.append(el("option", { value: JSON.stringify(value), text: shown[n] }));
    });
  } else if (list) {
    input = el("textarea", { id, name: path, rows: "2" });
  } else {
    input = el("input", { id, name: path, type: "text", autocomplete: "off" });
  }
  input.setAttribute("aria-describedby", described);
  if (fact.required) input.required = true;
  wrap.append(el("label", { for: id, text: label }), input, helpText,
              el("p", { class: "error", id: errorId(path) }));
  return wrap;
}

function controls(name) {
  const node = document.getElementById(fieldId(name));
  if (!node) return [];
  return node.tagName === "FIELDSET" ? [...node.querySelectorAll("input")] : [node];
}

// An amount as a contract writes it ("CNY 50,000.00", "50,000") as the decimal text the
// service reads ("50000.00"); anything else as typed, for the service to say what is wrong.
const AMOUNT = /^(?:CNY|RMB|¥)?\s*(-?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?$/u;
function amount(text) {
  const match = AMOUNT.exec(text);
  return match ? match[1] + match[2].replaceAll(",", "") + (match[3] || "") : text;
}

// What the form says, as the request's facts and as the address's parameters.
function readForm() {
  const facts = {}, address = new URLSearchParams({ query: state.current.query });
  const put = (path, value) => {
    const parts = path.split(".");
    let node = facts;
    for (const part of parts.slice(0, -1)) node = node[part] ??= {};
    node[parts.at(-1)] = value;
  };
  for (const [path, fact] of Object.entries(state.current.facts)) {
    if (path in OWN_FIELDS) continue;
    const [input] = controls(path);
    const list = fact.type.startsWith("list of ");
    if (list && fact.allowed) {
      const chosen = controls(path).filter((box) => box.checked).map((box) => JSON.parse(box.value));
      if (chosen.length) put(path, chosen);
      for (const value of chosen) address.append(path, String(value));
    } else if (input.tagName === "SELECT") {
      if (input.value === "") continue;
      const value = JSON.parse(input.value);
      put(path, value);
      address.set(path, fact.type === "bool" ? (value ? "yes" : "no") : String(value));
    } else {
      const text = input.value.trim();
      if (text === "") continue;
      const item = list ? fact.type.slice("list of ".length) : fact.type;
      const read = (one) => (item === "int" && /^-?\d+$/.test(one) ? Number(one)
                             : item === "money" ? amount(one) : one);
      put(path, list ? text.split("\n").map((line) => line.trim()).filter(Boolean).map(read)
                     : read(text));   // anything else goes as written: the service says what is wrong
      address.set(path, text);
    }
  }
  const body = { facts };
  const at = document.getElementById("field-at").value.trim();
  const customer = document.getElementById("field-customer").value.trim();
  const standard = document.getElementById("field-customer-standard_terms");
  if (at) { body.at = at; address.set("at", at); }
  if (customer) { body.customer = customer; address.set("customer", customer); }
  if (standard.checked && !standard.closest(".field").hidden) {
    facts.customer = { ...(facts.customer || {}), standard_terms: true };
    address.set("customer.standard_terms", "yes");
  }
  return { body, address };
}

// The address's parameters into the form; true when it gave anything beside the question.
function fill(address) {
  let filled = false;
  for (const [path, fact] of Object.entries(state.current.facts)) {
    if (path in OWN_FIELDS) continue;
    const given = address.getAll(path);
    if (!given.length) continue;
    filled = true;
    const [input] = controls(path);
    if (fact.type.startsWith("list of ") && fact.allowed) {
      for (const box of controls(path)) box.checked = given.includes(String(JSON.parse(box.value)));
    } else if (input.tagName === "SELECT") {
      const wanted = fact.type === "bool" ? String(given[0] === "yes") : given[0];
      const option = [...input.options].find((o) => o.value !== "" && String(JSON.parse(o.value)) === wanted);
      if (option) input.value = option.value;
    } else {
      input.value = given.join("\n");
    }
  }
  for (const name of ["at", "customer"]) {
    if (address.has(name)) {
      document.getElementById(fieldId(name)).value = address.get(name);
      filled = true;
    }
  }
  if (address.get("customer.standard_terms") === "yes") {
    document.getElementById("field-customer-standard_terms").checked = true;
    filled = true;
  }
  return filled;
}

function remember(withFacts) {
  const address = withFacts ? readForm().address : new URLSearchParams({ query: state.current.query });
  history.replaceState(null, "", "?" + address);
  document.getElementById("share").href = "?" + address;
}

// Asking -----------------------------------------------------------------------------------
async function ask() {
  clearProblems();
  const query = state.current;
  const { body } = readForm();
  remember(true);
  const status = document.getElementById("status");
  status.textContent = "Asking…";
  let response, data;
  try {
    response = await fetch(`/v1/decisions/${encodeURIComponent(query.query)}?explain=words&trace=true`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    data = await response.json();
  } catch (error) {
    status.textContent = "";
    showProblems([{ text: "The service did not answer: " + error }]);
    return;
  }
  if (!response.ok) showErrors(data.error);
  else showAnswer(data);
}

// Errors -----------------------------------------------------------------------------------
function fieldOf(error) {
  if (error.fact) return fieldName(error.fact);
  if (error.code === "NP052" && /time/.test(error.message)) return "at";
  return null;
}

function showErrors(error) {
  const problems = (error.errors && error.errors.length ? error.errors : [error]).map((one) => {
    const text = sentence(one.message) + (one.hint ? ` (${one.hint})` : "");
    const name = fieldOf(one);
    const box = name && document.getElementById(errorId(name));
    if (!box || box.closest("[hidden]")) return { text };
    box.textContent = box.textContent ? `${box.textContent} ${text}` : text;
    box.closest(".field").classList.add("invalid");
    for (const control of controls(name)) control.setAttribute("aria-invalid", "true");
    return { text, name };
  });
  if (error.more) problems.push({ text: `and ${error.more} more` });
  showProblems(problems);
  document.getElementById("status").textContent = "";
  const first = problems.find((p) => p.name);
  if (first) controls(first.name)[0].focus();
  else document.getElementById("problems").focus();
}

function showProblems(problems) {
  const box = document.getElementById("problems");
  const list = document.getElementById("problems-list");
  document.getElementById("problems-title").textContent = problems.length === 1
    ? "There is a problem" : `There are ${problems.length} problems`;
  list.replaceChildren(...problems.map((problem) => {
    if (!problem.name) return el("li", { text: problem.text });
    const link = el("a", { href: "#" + fieldId(problem.name), text: problem.text });
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const [control] = controls(problem.name);
      control.scrollIntoView({ block: "center" });
      control.focus();
    });
    return el("li", {}, link);
  }));
  box.hidden = false;
  document.getElementById("answer").hidden = true;
}

function clearProblems() {
  document.getElementById("problems").hidden = true;
  document.getElementById("problems-list").replaceChildren();
  for (const box of document.querySelectorAll(".error")) box.textContent = "";
  for (const field of document.querySelectorAll(".field.invalid")) field.classList.remove("invalid");
  for (const input of document.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

// The answer -------------------------------------------------------------------------------
function clauseLink(words, clause) {
  const href = words.clause_links[clause];
  return href ? el("a", { href, text: "clause " + clause }) : document.createTextNode("clause " + clause);
}

// "clause 3", "clauses 5, 8", "clauses 5 and 8" in a line of the memo: each clause a link
// to its passage on the documentation site, where the answer gives one.
const CLAUSE = String.raw`\d+(?:\.\d+)*(?:\([a-z]\))?`;
const CITATION = new RegExp(String.raw`\bclauses?\s+${CLAUSE}(?:(?:,\s*|\s+and\s+)${CLAUSE})*`, "g");

function withClauseLinks(text, words) {
  const parts = [];
  let at = 0;
  for (const citation of text.matchAll(CITATION)) {
    parts.push(text.slice(at, citation.index));
    const one = citation[0].match(new RegExp(String.raw`\s(${CLAUSE})$`));
    if (one && words.clause_links[one[1]] && !/,|\sand\s/.test(citation[0])) {   // "clause 3": all of it
      parts.push(el("a", { href: words.clause_links[one[1]], text: citation[0] }));
      at = citation.index + citation[0].length;
      continue;
    }
    let inner = 0;
    for (const number of citation[0].matchAll(new RegExp(CLAUSE, "g"))) {
      const href = words.clause_links[number[0]];
      if (!href) continue;
      parts.push(citation[0].slice(inner, number.index));
      parts.push(el("a", { href, text: number[0] }));
      inner = number.index + number[0].length;
    }
    parts.push(citation[0].slice(inner));
    at = citation.index + citation[0].length;
  }
  parts.push(text.slice(at));
  return parts.filter((part) => part !== "");
}

function showAnswer(decision) {
  const words = decision.words;
  document.getElementById("decided").textContent = words.decided;
  document.getElementById("notes").replaceChildren(
    ...words.notes.map((note) => el("li", { text: note })));
  const results = document.getElementById("results");
  results.replaceChildren(...words.results.map((result) => {
    const item = el("article", { class: "result", id: "result-" + result.decision,
                                 "aria-labelledby": "label-" + result.decision });
    item.append(el("h3", { id: "label-" + result.decision, text: result.label }),
                el("p", { class: "value", text: result.value }));
    if (result.description) item.append(el("p", { class: "about", text: result.description }));
    item.append(el("p", { class: "clause" },
                   ...(result.clause ? ["Under ", clauseLink(words, result.clause), "."]
                                     : ["No clause is cited."])));
    if (result.steps.length) {
      item.append(el("ul", { class: "steps" },
                     ...result.steps.map((step) => el("li", {}, ...withClauseLinks(step, words)))));
    }
    return item;
  }));
  document.getElementById("memo").replaceChildren(...withClauseLinks(decision.memo, words));
  document.getElementById("trace").textContent = JSON.stringify(decision.trace, null, 2);
  document.getElementById("trace-details").open = false;
  document.getElementById("meta").textContent =
    `Decision ${decision.decision_id}, rules revision ${decision.revision}.`;
  const answer = document.getElementById("answer");
  answer.hidden = false;
  document.getElementById("status").textContent =
    `The answer is ready: ${words.results.map((r) => `${r.label}: ${r.value}`).join("; ")}.`;
  answer.scrollIntoView({ block: "start" });
  answer.focus({ preventScroll: true });
}

start();
