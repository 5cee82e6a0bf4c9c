"""The OpenAPI 3.1 description of the decision service, served at `/openapi.json`."""

from __future__ import annotations

from typing import Any

from chiprules import __version__

_DATE = {"type": "string", "format": "date", "description": "YYYY-MM-DD"}
_TIMELINE = {"type": "string", "enum": ["enforced", "written"],
             "description": "After 2025-05-13: the regime as enforced (the default) or as written."}
_RECORD = {
    "type": "object",
    "description": "A shipment record: the fields of the record contract (id, export_date, destination, "
                   "end_user, chip, tpp, die_area, datacenter ...). Unknown fields are kept. A bad value "
                   "makes the record's decision an `error` naming the field.",
    "additionalProperties": True,
}
_IDENTITY = {
    "type": "object",
    "description": "The rules that answered: a hash of all their versions and when they were loaded.",
    "properties": {"hash": {"type": "string"}, "loaded_at": {"type": "string"}, "versions": {"type": "integer"}},
    "required": ["hash", "loaded_at", "versions"],
}
_DIAGNOSTIC = {
    "type": "object",
    "description": "A diagnostic as `chiprules check --format json` prints it.",
    "properties": {
        "code": {"type": "string"}, "severity": {"type": "string", "enum": ["error", "warning"]},
        "message": {"type": "string"}, "file": {"type": "string"}, "line": {"type": "integer"},
        "column": {"type": "integer"}, "end_line": {"type": "integer"}, "end_column": {"type": "integer"},
        "location": {"type": "string"}, "help": {"type": "string"}, "rule": {"type": "string"},
    },
    "required": ["code", "severity", "message"],
}
_DECISION = {
    "type": "object",
    "description": "A decision as one line of `chiprules eval --format jsonl`: outcome, classification, "
                   "review policy, licence exceptions, reasons with citations, missing facts, possible "
                   "list matches, and the ruleset version and hash used.",
    "properties": {
        "id": {"type": "string"},
        "outcome": {"type": "string", "enum": ["license_required", "license_exception", "no_license_required",
                                               "not_subject", "indeterminate", "error"]},
        "classification": {"type": "array", "items": {"type": "string"}},
        "jurisdiction": {"type": ["string", "null"],
                         "description": "what brings the item under the EAR (the jurisdiction rule that holds, "
                                        "e.g. `us_origin`, `de_minimis`, `fdp_734_9_h`), `not_subject`, or null "
                                        "when undecided"},
        "review_policy": {"type": ["string", "null"]},
        "license_exceptions": {"type": "array"},
        "reasons": {"type": "array"},
        "missing": {"type": "array", "items": {"type": "string"}},
        "possible_matches": {"type": "array"},
        "ruleset": {"type": ["object", "null"]},
        "errors": {"type": "array", "items": {"type": "string"}},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "location": {"type": "string"},
        "explanation": {"type": "string"},
        "licence": {"type": "string", "description": "the licence on file that covers the record (its "
                    "outcome stays `license_required`)"},
        "quotas": {"type": "array", "items": {"type": "object"},
                   "description": "what the record drew on each running total (quotas of the rules, licences): "
                                  "key, period, unit, status, limit, used, draw, remaining; the records of one "
                                  "request are decided in `export_date` order"},
    },
    "required": ["id", "outcome"],
}
_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "status": {"type": "integer"}, "message": {"type": "string"}, "field": {"type": "string"},
        "diagnostics": {"type": "array", "items": {"$ref": "#/components/schemas/Diagnostic"}},
        "text": {"type": "string"},
    }, "required": ["status", "message"]}},
    "required": ["error"],
}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes: int) -> dict:
    words = {400: "The body is not JSON (or not UTF-8, or empty).", 401: "No or a wrong bearer token.",
             403: "Writing files is not allowed.", 404: "No such version.",
             413: "The body, or a list in it, is over the limit.",
             422: "A field has the wrong type or value: `field` names it.",
             503: "The request took longer than the time limit."}
    return {str(c): {"description": words[c], **_json(_ref("Error"))} for c in codes}


def _body(schema: dict, required: bool = True) -> dict:
    return {"required": required, **_json(schema)}


def _obj(props: dict, required=(), **extra) -> dict:
    return {"type": "object", "properties": props, "required": list(required), "additionalProperties": False,
            **extra}


def openapi_document(settings: Any) -> dict:
    common = (400, 401, 413, 422, 503)
    decisions_request = {
        "oneOf": [
            _obj({"record": _RECORD, "as_of": _DATE, "timeline": _TIMELINE, "explain": {"type": "boolean"}},
                 ["record"]),
            _obj({"records": {"type": "array", "items": _RECORD, "maxItems": settings.max_records},
                  "as_of": _DATE, "timeline": _TIMELINE, "explain": {"type": "boolean"}}, ["records"]),
            {"type": "array", "items": _RECORD, "maxItems": settings.max_records},
        ],
    }
    names = {"oneOf": [{"type": "string", "minLength": 1},
                       {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1,
                        "maxItems": settings.max_records}]}
    paths = {
        "/health": {"get": {"summary": "The service is up (needs no token).", "security": [],
                            "responses": {"200": {"description": "Up.", **_json(_obj(
                                {"status": {"const": "ok"}}, ["status"]))}}}},
        "/ready": {"get": {
            "summary": "The rules in use, and the diagnostics of the last reload if it failed (the last good "
                       "rules go on serving).",
            "responses": {"200": {"description": "Ready.", **_json({"type": "object", "properties": {
                "ready": {"type": "boolean"}, "rules": _ref("Rules"), "stale": {"type": "boolean"},
                "reload": {"type": ["object", "null"]}, "reloads": {"type": "integer"}},
                "required": ["ready", "rules", "stale"]})}, **_errors(401)}}},
        "/v1/decisions": {"post": {
            "summary": "Decide one record or a list, each under the version in force on its export_date "
                       "(or as_of). The decisions are those of `chiprules eval --format jsonl`.",
            "requestBody": _body(decisions_request),
            "responses": {"200": {"description": "One decision per record, in order.", **_json({
                "type": "object", "properties": {"decisions": {"type": "array", "items": _ref("Decision")},
                                                 "rules": _ref("Rules")},
                "required": ["decisions", "rules"]})}, **_errors(*common)}}},
        "/v1/screen": {"post": {
            "summary": "Screen party names against the lists of the version in force, as `chiprules screen`.",
            "requestBody": _body({"oneOf": [
                _obj({"name": {"type": "string", "minLength": 1}, "as_of": _DATE, "country": {"type": "string"},
                      "address": {"type": "string"}, "lists": {"type": "array", "items": {"type": "string"}},
                      "timeline": _TIMELINE}, ["name"]),
                _obj({"names": names, "as_of": _DATE, "country": {"type": "string"},
                      "address": {"type": "string"}, "lists": {"type": "array", "items": {"type": "string"}},
                      "timeline": _TIMELINE}, ["names"]),
            ]}),
            "responses": {"200": {"description": "One result per name and list.", **_json({
                "type": "object", "properties": {"on": _DATE, "version": {"type": "string"},
                                                 "results": {"type": "array", "items": {"type": "object"}},
                                                 "rules": _ref("Rules")},
                "required": ["on", "version", "results"]})}, **_errors(*common)}}},
        "/v1/versions": {"get": {
            "summary": "The versions: id, dates, timeline, content hash, citation, file within the rules root.",
            "responses": {"200": {"description": "The versions, oldest first.", **_json({
                "type": "object", "properties": {"rules": _ref("Rules"), "versions": {"type": "array"},
                                                 "timelines": {"type": "object"}},
                "required": ["rules", "versions", "timelines"]})}, **_errors(401)}}},
        "/v1/versions/{version}/source": {
            "parameters": [{"name": "version", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"summary": "The text of a version's file.",
                    "responses": {"200": {"description": "The text.", **_json(_obj(
                        {"version": {"type": "string"}, "file": {"type": "string"}, "text": {"type": "string"},
                         "editable": {"type": "boolean"}}, ["version", "text"]))}, **_errors(401, 404)}},
            "put": {"summary": "Save a version's file (only with `--allow-edit`, only inside the rules root); "
                               "the rules reload if they check.",
                    "requestBody": _body(_obj({"text": {"type": "string"}}, ["text"])),
                    "responses": {"200": {"description": "Saved.", **_json({"type": "object"})},
                                  **_errors(400, 401, 403, 404, 413, 422, 503)}},
        },
        "/v1/check": {"post": {
            "summary": "Check rules text (in place of a version's file, or as a new file beside the versions); "
                       "the diagnostics of `chiprules check --format json`, the inline examples run, and with "
                       "`records` those records decided by the text, if it checks.",
            "requestBody": _body(_obj({"text": {"type": "string"}, "version": {"type": "string"},
                                       "examples": {"type": "boolean"},
                                       "records": {"type": "array", "items": _RECORD,
                                                   "maxItems": settings.max_records},
                                       "as_of": _DATE, "explain": {"type": "boolean"}}, ["text"])),
            "responses": {"200": {"description": "Diagnostics (an empty list when clean).", **_json({
                "type": "object", "properties": {
                    "diagnostics": {"type": "array", "items": _ref("Diagnostic")},
                    "errors": {"type": "integer"}, "warnings": {"type": "integer"}, "summary": {"type": "string"},
                    "text": {"type": "string"}, "version": {"type": ["string", "null"]},
                    "examples": {"type": ["array", "null"]},
                    "decisions": {"type": ["array", "null"], "items": _ref("Decision")}},
                "required": ["diagnostics", "errors", "warnings"]})}, **_errors(*common)}}},
        "/v1/format": {"post": {
            "summary": "Format rules text canonically, as `chiprules fmt`.",
            "requestBody": _body(_obj({"text": {"type": "string"}, "version": {"type": "string"}}, ["text"])),
            "responses": {"200": {"description": "The formatted text.", **_json(_obj(
                {"text": {"type": "string"}, "changed": {"type": "boolean"}}, ["text", "changed"]))},
                **_errors(*common)}}},
        "/v1/diff": {"post": {
            "summary": "Compare two versions, as `chiprules diff`: structural changes, the regions whose outcome "
                       "changes with witness records, and with `records` the records whose decision flips.",
            "requestBody": _body(_obj({"old": {"type": "string"}, "new": {"type": "string"},
                                       "format": {"type": "string", "enum": ["json", "text", "md"]},
                                       "records": {"type": "array", "items": _RECORD,
                                                   "maxItems": settings.max_records}}, ["old", "new"])),
            "responses": {"200": {"description": "The report: JSON, or text for `text` and `md`.",
                                  "content": {"application/json": {"schema": {"type": "object"}},
                                              "text/plain": {"schema": {"type": "string"}},
                                              "text/markdown": {"schema": {"type": "string"}}}},
                          **_errors(*common)}}},
        "/v1/plot": {"get": {
            "summary": "The TPP x performance-density plane as a version decides it, as `chiprules plot`, in SVG.",
            "parameters": [
                {"name": "version", "in": "query", "schema": {"type": "string"}},
                {"name": "as_of", "in": "query", "schema": _DATE},
                {"name": "destination", "in": "query", "schema": {"type": "string"}},
                {"name": "datacenter", "in": "query", "schema": {"type": "string", "enum": ["yes", "no"]}},
                {"name": "against", "in": "query", "schema": {"type": "string"},
                 "description": "Hatch what changed since this version id or date."},
                {"name": "timeline", "in": "query", "schema": _TIMELINE},
                {"name": "plane", "in": "query",
                 "schema": {"type": "string", "enum": ["tpp,performance_density", "dram_bw,interconnect_bw"]},
                 "description": "The two fields on the axes (dram_bw,interconnect_bw: the H20 letter's plane)."},
            ],
            "responses": {"200": {"description": "The picture.",
                                  "content": {"image/svg+xml": {"schema": {"type": "string"}}}},
                          **_errors(401, 422, 503)}}},
        "/openapi.json": {"get": {"summary": "This document.",
                                  "responses": {"200": {"description": "OpenAPI 3.1.", **_json({"type": "object"})},
                                                **_errors(401)}}},
        "/": {"get": {"summary": "The workbench, a page for analysts (HTML).",
                      "responses": {"200": {"description": "The page.",
                                            "content": {"text/html": {"schema": {"type": "string"}}}},
                                    **_errors(401)}}},
    }
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "chiprules decision service", "version": __version__,
                 "description": "Decisions on shipments of advanced AI chips under US export controls, "
                                "from rules files reloaded when they change."},
        "paths": paths,
        "components": {"schemas": {"Decision": _DECISION, "Diagnostic": _DIAGNOSTIC, "Error": _ERROR,
                                   "Rules": _IDENTITY}},
    }
    if settings.token:
        doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        doc["security"] = [{"bearer": []}]
    return doc
