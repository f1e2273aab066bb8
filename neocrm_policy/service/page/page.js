// The page to ask the agreement: a form built from a query's declared facts, the answer
// as the memo with its clauses, errors beside the field they concern. Plain DOM, no
// build step; text from the service is only ever set as textContent.
"use strict";

const state = { queries: [], current: null };

const PLACEHOLDER = {
  datetime: "2026-03-07T22:30:00+08:00", date: "2026-03-07", money: "50000.00",
  int: "a whole number", decimal: "a number", duration: "4 hours",
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
const fieldId = (path) => "field-" + slug(path);
const errorId = (path) => "error-" + slug(path);

async function start() {
  const select = document.getElementById("query");
  try {
    const response = await fetch("/v1/queries");
    state.queries = (await response.json()).queries;
  } catch (error) {
    showGeneral("the service did not answer: " + error);
    return;
  }
  for (const query of state.queries) {
    select.append(el("option", { value: query.query, text: `${query.title} (${query.query})` }));
  }
  const wanted = new URLSearchParams(location.search).get("query");
  if (wanted && state.queries.some((q) => q.query === wanted)) select.value = wanted;
  select.addEventListener("change", showForm);
  document.getElementById("ask").addEventListener("submit", ask);
  showForm();
  document.body.dataset.ready = "yes";
}

function showForm() {
  const name = document.getElementById("query").value;
  const query = state.queries.find((q) => q.query === name);
  state.current = query;
  document.getElementById("query-summary").textContent = query.summary || "";
  const box = document.getElementById("facts");
  box.replaceChildren(el("legend", { text: "Facts" }));
  const paths = Object.keys(query.facts);
  if (!paths.length) {
    box.append(el("p", { class: "help", text: "This question needs no facts besides the time." }));
  }
  for (const path of paths) box.append(factField(path, query.facts[path]));
  clearErrors();
  document.getElementById("answer").hidden = true;
}

function factField(path, fact) {
  const id = fieldId(path);
  const wrap = el("div", { class: "field", "data-field": path });
  const label = el("label", { for: id, text: path });
  if (fact.required) label.append(el("span", { class: "required", title: "required", text: "*" }));
  wrap.append(label);
  const list = fact.type.startsWith("list of ");
  let input;
  if (list && fact.allowed) {
    input = el("div", { class: "choices", id, role: "group" });
    for (const value of fact.allowed) {
      const choice = `${id}-${slug(String(value))}`;
      const box = el("input", { type: "checkbox", id: choice, value: JSON.stringify(value) });
      input.append(el("label", { for: choice }, box, " " + String(value)));
    }
  } else if (fact.allowed || fact.type === "bool") {
    input = el("select", { id, name: path });
    input.append(el("option", { value: "", text: fact.required ? "(choose)" : "(not given)" }));
    for (const value of fact.allowed || [true, false]) {
      input.append(el("option", { value: JSON.stringify(value), text: String(value) }));
    }
  } else if (list) {
    input = el("textarea", { id, name: path, rows: "2", placeholder: "one per line" });
  } else {
    input = el("input", { id, name: path, type: "text", placeholder: PLACEHOLDER[fact.type] || "" });
  }
  wrap.append(input);
  const help = [fact.description, fact.type, fact.required ? "required" : "optional"];
  wrap.append(el("p", { class: "help", text: help.filter(Boolean).join(" · ") }));
  wrap.append(el("p", { class: "error", id: errorId(path), role: "alert" }));
  return wrap;
}

function readValue(path, fact) {
  const input = document.getElementById(fieldId(path));
  const list = fact.type.startsWith("list of ");
  if (list && fact.allowed) {
    const chosen = [...input.querySelectorAll("input:checked")].map((b) => JSON.parse(b.value));
    return chosen.length ? chosen : undefined;
  }
  if (input.tagName === "SELECT") return input.value === "" ? undefined : JSON.parse(input.value);
  const text = input.value.trim();
  if (text === "") return undefined;
  const item = list ? fact.type.slice("list of ".length) : fact.type;
  const read = (one) => (item === "int" && /^-?\d+$/.test(one) ? Number(one) : one);
  if (list) return text.split("\n").map((line) => line.trim()).filter(Boolean).map(read);
  return read(text);   // anything else goes as written: the service says what is wrong
}

function nest(facts, path, value) {
  const parts = path.split(".");
  let node = facts;
  for (const part of parts.slice(0, -1)) node = node[part] ??= {};
  node[parts.at(-1)] = value;
}

async function ask(event) {
  event.preventDefault();
  clearErrors();
  const query = state.current;
  const facts = {};
  for (const [path, fact] of Object.entries(query.facts)) {
    const value = readValue(path, fact);
    if (value !== undefined) nest(facts, path, value);
  }
  const body = { facts };
  const at = document.getElementById("field-at").value.trim();
  const customer = document.getElementById("field-customer").value.trim();
  if (at) body.at = at;
  if (customer) body.customer = customer;
  let response, data;
  try {
    response = await fetch(`/v1/decisions/${encodeURIComponent(query.query)}?explain=memo`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    data = await response.json();
  } catch (error) {
    showGeneral("the service did not answer: " + error);
    return;
  }
  if (!response.ok) showError(data.error);
  else showAnswer(data);
}

function fieldOf(error) {
  if (error.fact === "customer.id" || error.fact === "customer") return "customer";
  if (error.fact) return error.fact;
  if (error.location === "--at" || /`at`|date and time/.test(error.message)) return "at";
  if (/`customer`|customer/.test(error.message)) return "customer";
  return null;
}

function showError(error) {
  const text = error.message + (error.hint ? ` (${error.hint})` : "");
  const field = fieldOf(error);
  const box = field && document.getElementById(errorId(field));
  if (!box) {
    showGeneral(text);
    return;
  }
  box.textContent = text;
  box.closest(".field").classList.add("invalid");
  const input = document.getElementById(fieldId(field));
  if (input && input.focus) input.focus();
  document.getElementById("answer").hidden = true;
}

function showGeneral(text) {
  document.getElementById("error-general").textContent = text;
}

function clearErrors() {
  for (const box of document.querySelectorAll(".error")) box.textContent = "";
  for (const field of document.querySelectorAll(".field.invalid")) field.classList.remove("invalid");
}

function shown(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function showAnswer(decision) {
  const rows = document.querySelector("#results tbody");
  rows.replaceChildren();
  for (const entry of decision.trace) {
    rows.append(el("tr", { id: "result-" + entry.decision },
      el("td", { text: entry.decision }),
      el("td", { class: "value", text: shown(entry.value) }),
      el("td", { text: entry.rule }),
      el("td", { text: entry.clause ? "clause " + entry.clause : "" })));
  }
  document.getElementById("memo").textContent = decision.memo;
  document.getElementById("trace").textContent = JSON.stringify(decision.trace, null, 2);
  document.getElementById("trace-details").open = false;
  document.getElementById("meta").textContent =
    `decided at ${decision.at} · decision ${decision.decision_id} · revision ${decision.revision}`;
  document.getElementById("answer").hidden = false;
}

start();
