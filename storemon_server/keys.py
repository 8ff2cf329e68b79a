"""
The typed ``web.AppKey``s under which ``create_app`` stores the server's parts.
"""

from __future__ import annotations

from aiohttp import web

from storemon_server.config import Settings
from storemon_server.jobs import IngestLoop, JobRunner, ServerRepository
from storemon_server.metrics import Metrics

SETTINGS = web.AppKey("settings", Settings)
REPOSITORY = web.AppKey("repository", ServerRepository)
JOBS = web.AppKey("jobs", JobRunner)
INGEST = web.AppKey("ingest", IngestLoop)
METRICS = web.AppKey("metrics", Metrics)
