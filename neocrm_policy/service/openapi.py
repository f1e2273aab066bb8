"""The OpenAPI 3.1 document of the service, written here by hand and checked by the
tests against real responses. The decision's own shape is the package's decision JSON
Schema (`neocrm-policy schema decision`), embedded, so the two cannot drift apart."""

from __future__ import annotations

from functools import lru_cache

from .. import __version__
from ..loading.loader import schema_of

_ERROR_BODY = {
    "type": "object",
    "required": ["code", "message", "hint"],
    "properties": {
        "code": {"type": "string", "description": "NPxxx (a policy, fact or argument "
                 "error; see the errors page) or NSxxx (an HTTP-level error)."},
        "message": {"type": "string"},
        "location": {"type": ["string", "null"],
                     "description": "file:line:col, or `request body:line:col` for a fact "
                                    "in the request."},
        "file": {"type": ["string", "null"]},
        "line": {"type": ["integer", "null"]},
        "column": {"type": ["integer", "null"]},
        "hint": {"type": ["string", "null"]},
        "fact": {"type": "string", "description": "The dotted path of the fact at fault."},
        "errors": {"type": "array", "items": {"type": "object"},
                   "description": "Every problem, when there are several (at most the "
                                  "first 20)."},
        "more": {"type": "integer", "description": "Problems found beyond those listed."},
    },
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer: the token the operator set.",
                               "schema": {"type": "string"}}},
    405: {"Allow": {"description": "The methods the address answers.",
                    "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": "Seconds to wait before asking again.",
                          "schema": {"type": "string"}}},
}


def _errors(*statuses: int) -> dict:
    words = {400: "Bad facts, malformed JSON or a bad argument.", 401: "No or wrong token.",
             404: "Unknown query (with did-you-mean), or admin endpoints off.",
             405: "Method not allowed.", 413: "Body or batch over the limit.",
             408: "The request's headers or body did not arrive within the time limit.",
             415: "The body is sent as another media type than JSON.",
             422: "The new policy set was refused; the last good one keeps serving.",
             503: "The decision took longer than the time limit."}
    out = {}
    for status in statuses:
        out[str(status)] = _json(_ref("ErrorResponse"), words[status])
        if status in _HEADERS:
            out[str(status)]["headers"] = _HEADERS[status]
    return out


_QUERY = {"name": "query", "in": "path", "required": True, "schema": {"type": "string"},
          "description": "A query name, e.g. support.sla."}
_EXPLAIN = {"name": "explain", "in": "query", "required": False,
            "schema": {"type": "string", "enum": ["memo", "words"]},
            "description": "`memo` adds the decision as a short memo; `words` adds the "
                           "memo and `words`, the decision in words for a page, and "
                           "writes errors for the public (no file paths, no advice "
                           "meant for the rules' editors)."}
_TRACE = {"name": "trace", "in": "query", "required": False,
          "schema": {"type": "string", "enum": ["true", "false"]},
          "description": "`true` answers with the whole trace (for each value the rule, "
                         "clause, facts and terms behind it: the decision JSON of `eval`) "
                         "instead of `clauses`."}
_WORDS = {
    "type": "object", "additionalProperties": False,
    "required": ["title", "clauses", "decided", "notes", "results", "clause_links"],
    "description": "With ?explain=words: the memo's words as data.",
    "properties": {
        "title": {"type": "string"},
        "clauses": {"type": "array", "items": {"type": "string"}},
        "decided": {"type": "string", "description": "When it was decided, in words."},
        "notes": {"type": "array", "items": {"type": "string"}},
        "results": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["decision", "label", "description", "value", "clause", "steps"],
            "properties": {
                "decision": {"type": "string", "description": "The result's name."},
                "label": {"type": "string", "description": "Its name in words."},
                "description": {"type": ["string", "null"]},
                "value": {"type": "string", "description": "Its value in words."},
                "clause": {"type": ["string", "null"]},
                "steps": {"type": "array", "items": {"type": "string"},
                          "description": "The memo's lines behind it, in words."}}}},
        "clause_links": {"type": "object", "additionalProperties": {"type": "string"},
                         "description": "Each clause cited → its passage on the "
                                        "documentation site (--docs-url)."}}}


@lru_cache(maxsize=1)
def document() -> dict:
    decision = dict(schema_of("decision"))
    decision.pop("$schema", None)
    decision.pop("$id", None)
    decision["additionalProperties"] = False
    decision["required"] = [*(k for k in decision["required"] if k != "trace"),
                            "decision_id", "revision"]
    decision["description"] = (
        "The decision: its result with each value's clause (`clauses`); with "
        "?trace=true, the decision JSON of `neocrm-policy eval --format json` (its "
        "`trace` in place of `clauses`). With the id of its decision log line and the "
        "revision of the rules that decided.")
    decision["oneOf"] = [{"required": ["clauses"], "not": {"required": ["trace"]}},
                         {"required": ["trace"], "not": {"required": ["clauses"]}}]
    decision["properties"] = {
        **decision["properties"],
        "clauses": {"type": "object", "additionalProperties": {"type": ["string", "null"]},
                    "description": "Each result → the clause the rule that gave it cites "
                                   "(without ?trace=true)."},
        "decision_id": {"type": "string", "description": "Unique id, as in the decision log."},
        "revision": {"type": "string", "description": "Content hash of the rule files."},
        "memo": {"type": "string", "description": "With ?explain=memo or words: the memo."},
        "words": _WORDS,
    }
    reload_outcome = {
        "type": "object", "required": ["status", "revision", "at", "trigger", "error"],
        "properties": {
            "status": {"enum": ["loaded", "unchanged", "refused"]},
            "revision": {"type": "string"}, "at": {"type": "string"},
            "trigger": {"type": "string", "description": "start, admin, SIGHUP or watch"},
            "error": {"oneOf": [{"type": "null"}, _ref("Error")]},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "neocrm-policy decision service", "version": __version__,
                 "description": "The Neocrm subscription agreement's policies over HTTP."},
        "paths": {
            "/v1/decisions/{query}": {"post": {
                "summary": "Decide one query on one set of facts.",
                "parameters": [_QUERY, _EXPLAIN, _TRACE],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("DecisionRequest")}}},
                "description": "The facts each query reads, with their types and which are "
                               "required: GET /v1/queries/{query}/schema (`facts`); the "
                               "answer is its `decision` schema.",
                "responses": {"200": _json(_ref("Decision"), "The decision."),
                              **_errors(400, 404, 405, 408, 413, 415, 503)}}},
            "/v1/decisions/{query}/batch": {"post": {
                "summary": "Decide one query on many fact sets: one result or error each.",
                "parameters": [_QUERY, _EXPLAIN, _TRACE],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("BatchRequest")}}},
                "responses": {"200": _json(_ref("BatchResponse"), "One entry per item."),
                              **_errors(400, 404, 405, 408, 413, 415, 503)}}},
            "/v1/queries": {"get": {
                "summary": "Every query: its facts (type, required, allowed values) and results.",
                "responses": {"200": _json(_ref("Queries"), "The queries.")}}},
            "/v1/queries/{query}/schema": {"get": {
                "summary": "JSON Schemas of a query's facts, result and decision.",
                "parameters": [_QUERY],
                "responses": {"200": _json(_ref("QuerySchemas"), "The schemas."),
                              **_errors(404)}}},
            "/v1/admin/reload": {"post": {
                "summary": "Load and check the policy folder again; swap if it is good.",
                "security": [{"bearer": []}],
                "responses": {"200": _json(reload_outcome, "Loaded or unchanged."),
                              "422": _json(reload_outcome, "Refused: the last good set "
                                           "keeps serving."),
                              **_errors(401, 404, 405)}}},
            "/health": {"get": {"summary": "Live.", "responses": {"200": _json(
                {"type": "object", "required": ["status"],
                 "properties": {"status": {"const": "ok"}}}, "The process answers.")}}},
            "/ready": {"get": {"summary": "Policies loaded; the last reload's outcome.",
                               "responses": {"200": _json(_ref("Ready"), "Ready.")}}},
            "/metrics": {"get": {"summary": "Prometheus text format.", "responses": {
                "200": {"description": "Metrics.",
                        "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/": {"get": {"summary": "A web page to ask the agreement (HTML).", "responses": {
                "200": {"description": "The page.",
                        "content": {"text/html": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {"summary": "This document.", "responses": {
                "200": _json({"type": "object"}, "OpenAPI 3.1.")}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "DecisionRequest": {
                    "type": "object", "additionalProperties": False,
                    "properties": {
                        "facts": {"type": "object", "description": "The query's facts; "
                                  "GET /v1/queries/{query}/schema gives their schema."},
                        "at": {"type": ["string", "null"], "description": "Evaluation "
                               "time, ISO 8601 (no offset: Asia/Shanghai); default now."},
                        "customer": {"type": ["string", "null"], "description":
                                     "The customer.id whose own instruments apply."}}},
                "BatchRequest": {
                    "type": "object", "additionalProperties": False, "required": ["items"],
                    "properties": {
                        "items": {"type": "array", "items": _ref("DecisionRequest"),
                                  "minItems": 1},
                        "at": {"type": ["string", "null"],
                               "description": "For items that give none."},
                        "customer": {"type": ["string", "null"],
                                     "description": "For items that give none."}}},
                "Decision": decision,
                "Error": _ERROR_BODY,
                "ErrorResponse": {"type": "object", "required": ["error"],
                                  "properties": {"error": _ref("Error")}},
                "BatchResponse": {
                    "type": "object", "required": ["query", "revision", "results"],
                    "properties": {
                        "query": {"type": "string"}, "revision": {"type": "string"},
                        "results": {"type": "array", "items": {"oneOf": [
                            {"type": "object", "required": ["status", "decision"],
                             "additionalProperties": False,
                             "properties": {"status": {"const": 200},
                                            "decision": _ref("Decision")}},
                            {"type": "object", "required": ["status", "error"],
                             "additionalProperties": False,
                             "properties": {"status": {"type": "integer", "minimum": 400},
                                            "error": _ref("Error")}}]}}}},
                "Queries": {
                    "type": "object", "required": ["revision", "queries"],
                    "properties": {"revision": {"type": "string"}, "queries": {
                        "type": "array", "items": {
                            "type": "object",
                            "required": ["query", "title", "clauses", "facts", "results"],
                            "properties": {
                                "query": {"type": "string"}, "title": {"type": "string"},
                                "summary": {"type": ["string", "null"]},
                                "clauses": {"type": "array", "items": {"type": "string"}},
                                "facts": {"type": "object", "additionalProperties": {
                                    "type": "object",
                                    "required": ["type", "required", "allowed",
                                                 "allowed_words", "description"],
                                    "properties": {
                                        "type": {"type": "string"},
                                        "required": {"type": "boolean"},
                                        "allowed": {"type": ["array", "null"]},
                                        "allowed_words": {
                                            "type": ["array", "null"],
                                            "items": {"type": "string"},
                                            "description": "Each allowed value in "
                                                           "words, in the same order."},
                                        "description": {"type": ["string", "null"]}}}},
                                "results": {"type": "object", "additionalProperties": {
                                    "type": "object", "required": ["type"],
                                    "properties": {"type": {"type": "string"},
                                                   "description": {
                                                       "type": ["string", "null"]}}}}}}}}},
                "QuerySchemas": {
                    "type": "object",
                    "required": ["revision", "query", "facts", "result", "decision"],
                    "properties": {"revision": {"type": "string"}, "query": {"type": "string"},
                                   "facts": {"type": "object"}, "result": {"type": "object"},
                                   "decision": {"type": "object"}}},
                "Ready": {
                    "type": "object",
                    "required": ["ready", "revision", "loaded_at", "queries", "last_reload",
                                 "refused"],
                    "properties": {
                        "ready": {"type": "boolean"}, "revision": {"type": "string"},
                        "loaded_at": {"type": "string"}, "folder": {"type": "string"},
                        "queries": {"type": "integer"}, "last_reload": reload_outcome,
                        "refused": {"oneOf": [{"type": "null"}, reload_outcome]}}},
            },
        },
    }
