"""
The OpenAPI 3 description of every route, served at ``/api/openapi.json``.

A test compares its paths and methods with the router, so a route cannot be added or
removed without this file following.
"""

from __future__ import annotations

from typing import Any

from storemon.csvformat import REPORT_HEADER, UNKNOWN_COLUMNS
from storemon_server.history import DEFAULT_LIMIT, MAX_LIMIT


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _retry_after() -> dict[str, Any]:
    return {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer"},
        }
    }


_UNAUTHORIZED = _error("The API token is set and the request lacks it or has a wrong one.")

_REPORT_ROW = {
    "type": "object",
    "description": "One store: store_id as a string, each measure as the CSV's "
    "two-decimal string; the last hour in minutes, the day and week in hours. A report "
    "with a maximum gap adds the three unknown_* columns (uptime + downtime + unknown is "
    "the business time); one without has none of them.",
    "properties": {name: {"type": "string"} for name in REPORT_HEADER + UNKNOWN_COLUMNS},
    "required": list(REPORT_HEADER),
}

_MAX_GAP = {
    "type": "string",
    "nullable": True,
    "example": "PT2H",
    "description": "The report's maximum gap, ISO 8601 (null: none, so nothing is "
    "unknown): time further than half of it from every poll is unknown.",
}


def _instant_schema() -> dict[str, Any]:
    return {"$ref": "#/components/schemas/Instant"}


_INSTANT = {
    "type": "object",
    "description": "An instant in UTC and as the store's wall clock (with its UTC offset), "
    "so that a client needs no time-zone database.",
    "properties": {
        "us": {"type": "integer", "description": "Microseconds since the Unix epoch."},
        "utc": {"type": "string", "format": "date-time"},
        "local": {"type": "string", "format": "date-time"},
    },
    "required": ["us", "utc", "local"],
}


def _span_schema(**extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"start": _instant_schema(), "end": _instant_schema(), **extra},
        "required": ["start", "end", *extra],
    }


_TIMELINE = {
    "type": "object",
    "description": "One store's last week before the report's as_of, computed by the "
    "report's own code path: business time, the interpolated status, the polls and the "
    "DST changes, with the three windows' numbers.",
    "properties": {
        "report_id": {"type": "string"},
        "store_id": {"type": "string"},
        "zone_key": {"type": "string", "description": "The IANA zone of the local times."},
        "as_of": _instant_schema(),
        "windows": {
            "type": "object",
            "description": "The start of each window; each ends at as_of.",
            "properties": {
                name: _instant_schema() for name in ("last_hour", "last_day", "last_week")
            },
        },
        "days": {
            "type": "array",
            "description": "The local midnights inside the week, with a label.",
            "items": {
                "allOf": [
                    _instant_schema(),
                    {"type": "object", "properties": {"label": {"type": "string"}}},
                ]
            },
        },
        "business": {"type": "array", "items": _span_schema()},
        "status": {"type": "array", "items": _span_schema(active={"type": "boolean"})},
        "polls": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"at": _instant_schema(), "active": {"type": "boolean"}},
            },
        },
        "offset_changes": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "at": _instant_schema(),
                    "offset_before": {"type": "string", "example": "-06:00"},
                    "offset_after": {"type": "string", "example": "-05:00"},
                },
            },
        },
        "max_gap": _MAX_GAP,
        "unknown": {
            "type": "array",
            "description": "Stretches of the week where the status is unknown (empty "
            "without a maximum gap); status leaves them out.",
            "items": _span_schema(),
        },
        "special_days": {
            "type": "array",
            "description": "The store's special dates that reach into the week, one per "
            "local date: closed all day, or its special hours (local wall-clock times as "
            "written; an end not after the start runs past midnight). start and end are "
            "the date's local midnights.",
            "items": _span_schema(
                date={"type": "string", "format": "date"},
                closed={"type": "boolean"},
                hours={
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "start": {"type": "string", "example": "10:00:00"},
                            "end": {"type": "string", "example": "24:00:00"},
                        },
                        "required": ["start", "end"],
                    },
                },
            ),
        },
        "row": {"$ref": "#/components/schemas/ReportRow"},
        "report_row": {
            "allOf": [{"$ref": "#/components/schemas/ReportRow"}],
            "nullable": True,
            "description": "The row as the stored report holds it (null until complete).",
        },
        "matches_report": {
            "type": "boolean",
            "nullable": True,
            "description": "row equals report_row: false only if polls up to as_of arrived "
            "after the report was computed.",
        },
    },
    "required": [
        "report_id",
        "store_id",
        "zone_key",
        "as_of",
        "windows",
        "business",
        "status",
        "polls",
        "offset_changes",
        "max_gap",
        "unknown",
        "special_days",
        "row",
    ],
}


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "nullable": True, **extra}


_REPORT_SUMMARY = {
    "type": "object",
    "description": "A report as the list shows it: its state, times and number of stores.",
    "properties": {
        "report_id": {"type": "string"},
        "status": {"type": "string", "enum": ["Running", "Complete", "Failed"]},
        "state": {"type": "string", "enum": ["Pending", "Running", "Complete", "Failed"]},
        "as_of": _nullable("string", format="date-time"),
        "created_at": {"type": "string", "format": "date-time"},
        "finished_at": _nullable("string", format="date-time"),
        "stores": _nullable(
            "integer", description="Rows of the complete report; null until complete."
        ),
    },
    "required": ["report_id", "status", "state", "as_of", "created_at", "finished_at", "stores"],
}

_REPORT_PAGE = {
    "type": "object",
    "properties": {
        "reports": {"type": "array", "items": _REPORT_SUMMARY},
        "next": _nullable(
            "string", description="The cursor of the next page (its before); null at the end."
        ),
    },
    "required": ["reports", "next"],
}


def _page(summary: str, *content_types: str) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "security": [],
            "responses": {
                "200": {
                    "description": "A file of the page, shipped in the package, with its "
                    "ETag and Last-Modified.",
                    "content": {kind: {"schema": {"type": "string"}} for kind in content_types},
                },
                "304": {
                    "description": "Not modified: the copy named by If-None-Match (or, "
                    "without it, dated by If-Modified-Since) is current. No body."
                },
                "404": _error("No such file."),
            },
        }
    }


_REJECTS = {
    "type": "object",
    "description": "Rejected rows as the file reader rejects them: the line (for a JSON "
    "list, the item, from 1), the column at fault (null for the row as a whole), the "
    "reason and the row's text. The first 100 are listed; rejected counts them all.",
    "properties": {
        "rejected": {"type": "integer"},
        "rejects": {
            "type": "array",
            "maxItems": 100,
            "items": {
                "type": "object",
                "properties": {
                    "line": {"type": "integer"},
                    "column": {"type": "string", "nullable": True},
                    "reason": {"type": "string"},
                    "text": {"type": "string"},
                },
                "required": ["line", "column", "reason", "text"],
            },
        },
    },
    "required": ["rejected", "rejects"],
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _refused(description: str) -> dict[str, Any]:
    """A 400 whose body lists the rejected rows beside the error."""
    return {
        "description": description,
        "content": _json(
            {
                "allOf": [
                    {"$ref": "#/components/schemas/Error"},
                    {"$ref": "#/components/schemas/Rejects"},
                ]
            }
        ),
    }


_BUSY = {
    **_error("The database stayed busy with another writer (an ingest) for half a second."),
    "headers": _retry_after(),
}
_STORE_ID = {
    "name": "store_id",
    "in": "path",
    "required": True,
    "description": "Checked as a file's store ids are: at most 128 characters, no control "
    "character, not starting with = + - @.",
    "schema": {"type": "string"},
}
_HOURS_ROW = {
    "type": "object",
    "properties": {
        "day_of_week": {
            "description": "0 (Monday) to 6 (Sunday); a string or a whole number.",
            "oneOf": [{"type": "integer"}, {"type": "string"}],
        },
        "start_time_local": {"type": "string", "example": "09:00:00"},
        "end_time_local": {"type": "string", "example": "24:00:00"},
    },
    "required": ["day_of_week", "start_time_local", "end_time_local"],
}

_PUSH_POLLS = {
    "post": {
        "summary": "Store polls pushed by a service: CSV or JSON lines.",
        "description": "CSV (Content-Type text/csv) with the status file's header, "
        "columns in any order; or JSON lines (application/x-ndjson or application/jsonl), "
        'one {"store_id", "status", "timestamp_utc"} object per line, all strings. Rows '
        "are checked as the status file's rows are (store ids, instant spellings, "
        "statuses, the future tolerance); the good ones are stored, the bad ones "
        "rejected with their line and reason. The same poll twice is stored once; a "
        "later row for the same instant wins. At most --max-push-bytes (8 MiB by "
        "default).",
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/jsonl": {"schema": {"type": "string"}},
            },
        },
        "responses": {
            "200": {
                "description": "At least one row was read; every good row is stored.",
                "content": _json(
                    {
                        "allOf": [
                            {
                                "type": "object",
                                "properties": {
                                    "stored": {
                                        "type": "integer",
                                        "description": "Rows new, or changing a status.",
                                    },
                                    "already_present": {
                                        "type": "integer",
                                        "description": "Rows identical to a stored poll.",
                                    },
                                },
                                "required": ["stored", "already_present"],
                            },
                            {"$ref": "#/components/schemas/Rejects"},
                        ]
                    }
                ),
            },
            "400": _refused("No row could be read (no valid header, or every row rejected)."),
            "401": _UNAUTHORIZED,
            "413": _error("The body is over --max-push-bytes; the connection is closed."),
            "415": _error("The Content-Type is not CSV or JSON lines."),
            "503": _BUSY,
        },
    }
}

_PUT_HOURS = {
    "put": {
        "summary": "Replace one store's weekly business hours.",
        "description": "A JSON list of weekly rows (application/json), or CSV (text/csv) "
        "with the columns day_of_week (or day), start_time_local, end_time_local. The "
        "rows are checked as the hours file's rows are; one bad row refuses them all. "
        "An empty list leaves the store no rows: open 24x7. A later refresh of a "
        "changed hours file replaces every store's rows, these included.",
        "parameters": [_STORE_ID],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": _HOURS_ROW}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        "responses": {
            "200": {
                "description": "The rows stored, identical rows once.",
                "content": _json(
                    {
                        "type": "object",
                        "properties": {
                            "store_id": {"type": "string"},
                            "hours": {"type": "array", "items": _HOURS_ROW},
                            "open_24x7": {"type": "boolean"},
                            "stored": {
                                "type": "integer",
                                "description": "Rows the store did not have before.",
                            },
                            "already_present": {"type": "integer"},
                        },
                        "required": [
                            "store_id",
                            "hours",
                            "open_24x7",
                            "stored",
                            "already_present",
                        ],
                    }
                ),
            },
            "400": _refused("A bad store id, body or row; nothing was stored."),
            "401": _UNAUTHORIZED,
            "413": _error("The body is over 64 KiB."),
            "415": _error("The Content-Type is not JSON or CSV."),
            "503": _BUSY,
        },
    }
}

_PUT_ZONE = {
    "put": {
        "summary": "Set one store's time zone.",
        "description": 'The body is {"timezone_str": "America/New_York"}: an IANA name '
        "of the bundled tzdata, as in the zones file. A later refresh of a changed zones "
        "file replaces every store's zone, this one included.",
        "parameters": [_STORE_ID],
        "requestBody": {
            "required": True,
            "content": _json(
                {
                    "type": "object",
                    "properties": {"timezone_str": {"type": "string"}},
                    "required": ["timezone_str"],
                }
            ),
        },
        "responses": {
            "200": {
                "description": "The zone stored.",
                "content": _json(
                    {
                        "type": "object",
                        "properties": {
                            "store_id": {"type": "string"},
                            "timezone_str": {"type": "string"},
                            "changed": {"type": "boolean"},
                        },
                        "required": ["store_id", "timezone_str", "changed"],
                    }
                ),
            },
            "400": _refused("A bad store id, body or zone name; nothing was stored."),
            "401": _UNAUTHORIZED,
            "415": _error("The Content-Type is not application/json."),
            "503": _BUSY,
        },
    }
}

_METRICS = {
    "get": {
        "summary": "Prometheus metrics, in the text format (docs/operations.md).",
        "description": "Needs the token unless the server runs with --metrics-public.",
        "responses": {
            "200": {
                "description": "Prometheus text exposition format 0.0.4.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "401": _UNAUTHORIZED,
        },
    }
}


OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "storemon",
        "version": "1",
        "description": "Uptime and downtime of stores within their business hours. "
        "Reports are computed in the background: trigger one, then poll for it.",
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {"error": {"type": "string"}},
                "required": ["error"],
            },
            "ReportRow": _REPORT_ROW,
            "Instant": _INSTANT,
            "StoreTimeline": _TIMELINE,
            "ReportPage": _REPORT_PAGE,
            "Rejects": _REJECTS,
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/": _page("The web page: trigger a report, read it, see each store's week.", "text/html"),
        "/static/{name}": {
            "get": {
                **_page(
                    "The page's script (app.js) or style sheet (app.css).",
                    "text/javascript",
                    "text/css",
                )["get"],
                "parameters": [
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": ["app.js", "app.css"]},
                    }
                ],
            }
        },
        "/api/trigger_report": {
            "post": {
                "summary": "Start a report of the data stored now.",
                "description": "The report's as_of is fixed now: the latest stored poll. "
                "Its maximum gap too: max_gap, else the server's --max-gap, else none; it "
                "is stored with the report.",
                "parameters": [
                    {
                        "name": "max_gap",
                        "in": "query",
                        "required": False,
                        "description": "The report's maximum gap: 90m, 2h, 1h30m, 45s or "
                        "ISO 8601 PT2H (positive, at most 10000 days). Time further than "
                        "half of it from every poll is unknown; the report then has the "
                        "three unknown_* columns.",
                        "schema": {"type": "string", "example": "2h"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The report was queued.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "report_id": {"type": "string"},
                                        "status": {"type": "string", "enum": ["Running"]},
                                        "message": {"type": "string", "enum": ["Success"]},
                                    },
                                    "required": ["report_id", "status", "message"],
                                }
                            }
                        },
                    },
                    "400": _error(
                        "max_gap is not a duration (90m, 2h, 1h30m, 45s, PT2H), is zero or "
                        "too long, or is given twice."
                    ),
                    "401": _UNAUTHORIZED,
                    "409": _error("There is no poll yet, so a report has no 'now'."),
                    "503": {
                        **_error(
                            "The start-up ingest is not done, the queue is full, or the "
                            "database stayed busy with another writer (answered within "
                            "about a second)."
                        ),
                        "headers": _retry_after(),
                    },
                },
            }
        },
        "/api/get_report": {
            "get": {
                "summary": "The state of a report, or the report itself once complete.",
                "parameters": [
                    {
                        "name": "report_id",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{21}[AQgw]$"},
                    },
                    {
                        "name": "format",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["csv", "json"], "default": "csv"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "Running (JSON), or Complete: the CSV, or JSON with "
                        "format=json. A Complete answer has the header X-Report-Status.",
                        "headers": {
                            "X-Report-Status": {"schema": {"type": "string"}},
                            "Content-Disposition": {"schema": {"type": "string"}},
                        },
                        "content": {
                            "text/csv": {"schema": {"type": "string"}},
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "report_id": {"type": "string"},
                                        "status": {
                                            "type": "string",
                                            "enum": ["Running", "Complete"],
                                        },
                                        "state": {
                                            "type": "string",
                                            "enum": ["Pending", "Running"],
                                        },
                                        "as_of": {"type": "string", "format": "date-time"},
                                        "max_gap": _MAX_GAP,
                                        "rows": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/ReportRow"},
                                        },
                                    },
                                    "required": ["report_id", "status"],
                                }
                            },
                        },
                    },
                    "400": _error("report_id is missing or malformed, or format is unknown."),
                    "401": _UNAUTHORIZED,
                    "404": _error("No report has this id."),
                    "500": {
                        "description": "The report failed.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "report_id": {"type": "string"},
                                        "status": {"type": "string", "enum": ["Failed"]},
                                        "error": {"type": "string"},
                                    },
                                    "required": ["status", "error"],
                                }
                            }
                        },
                    },
                },
            }
        },
        "/api/reports/{report_id}/stores/{store_id}": {
            "get": {
                "summary": "One store's last week, explaining its row of the report.",
                "description": "Computed at the report's as_of from the stored polls, by the "
                "same code as the report. Works once the report is triggered; report_row "
                "is filled once it is complete.",
                "parameters": [
                    {
                        "name": "report_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{21}[AQgw]$"},
                    },
                    {
                        "name": "store_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "maxLength": 128},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The store's timeline.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/StoreTimeline"}
                            }
                        },
                    },
                    "400": _error("The store id is too long."),
                    "401": _UNAUTHORIZED,
                    "404": _error(
                        "No report has this id, or the report has no row for this store."
                    ),
                },
            }
        },
        "/api/reports": {
            "get": {
                "summary": "The reports, newest first, a page at a time.",
                "description": "Newest first by creation time, then by report id. Pass a "
                "page's next as before to get the page after it; next is null on the last "
                "page. Never sends a report's rows: get_report does.",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_LIMIT,
                            "default": DEFAULT_LIMIT,
                        },
                    },
                    {
                        "name": "before",
                        "in": "query",
                        "required": False,
                        "description": "The next of the previous page (an opaque cursor).",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "A page of the list of reports.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ReportPage"}
                            }
                        },
                    },
                    "400": _error("limit is not from 1 to 100, or before is not a cursor."),
                    "401": _UNAUTHORIZED,
                },
            }
        },
        "/api/health": {
            "get": {
                "summary": "Liveness, readiness and the outcome of the latest ingest.",
                "description": (
                    "Open to all, but without the API token (when the server has one) the "
                    'answer is only {"ready": ...}; the rest is for the operator.'
                ),
                "security": [{"bearer": []}, {}],
                "responses": {
                    "200": {
                        "description": "The server is up.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "status": {"type": "string", "enum": ["ok"]},
                                        "database": {"type": "string", "enum": ["up", "down"]},
                                        "ready": {"type": "boolean"},
                                        "last_ingest": {"type": "object", "nullable": True},
                                        "reports": {
                                            "type": "object",
                                            "properties": {
                                                "running": {"type": "integer"},
                                                "queued": {"type": "integer"},
                                            },
                                        },
                                    },
                                    "required": ["ready"],
                                }
                            }
                        },
                    }
                },
            }
        },
        "/api/session": {
            "get": {
                "summary": "Check the API token: a cheap call that needs it.",
                "description": "Answers 204 when the request may use the API: with the "
                "right token, or with none when the server has none. The web page asks it "
                "on load (to say whether a token is needed) and when a token is entered.",
                "responses": {
                    "204": {"description": "The token is accepted (or none is needed)."},
                    "401": _UNAUTHORIZED,
                },
            }
        },
        "/api/polls": _PUSH_POLLS,
        "/api/stores/{store_id}/hours": _PUT_HOURS,
        "/api/stores/{store_id}/timezone": _PUT_ZONE,
        "/metrics": _METRICS,
        "/api/openapi.json": {
            "get": {
                "summary": "This description.",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3 document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "401": _UNAUTHORIZED,
                },
            }
        },
    },
}
