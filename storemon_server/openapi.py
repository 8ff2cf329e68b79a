"""
The OpenAPI 3 description of every route, served at ``/api/openapi.json``.

A test compares its paths and methods with the router, so a route cannot be added or
removed without this file following.
"""

from __future__ import annotations

from typing import Any

from storemon.report import REPORT_HEADER


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
    "two-decimal string; the last hour in minutes, the day and week in hours.",
    "properties": {name: {"type": "string"} for name in REPORT_HEADER},
    "required": list(REPORT_HEADER),
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
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/trigger_report": {
            "post": {
                "summary": "Start a report of the data stored now.",
                "description": "The report's as_of is fixed now: the latest stored poll.",
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
                    "401": _UNAUTHORIZED,
                    "409": _error("There is no poll yet, so a report has no 'now'."),
                    "503": {
                        **_error("The start-up ingest is not done, or the queue is full."),
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
        "/api/health": {
            "get": {
                "summary": "Liveness, readiness and the outcome of the latest ingest.",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The server is up.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "status": {"type": "string", "enum": ["ok"]},
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
                                    "required": ["status", "ready", "last_ingest"],
                                }
                            }
                        },
                    }
                },
            }
        },
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
