"""
Shared test setup: Hypothesis profiles, the pinned tz database, real-data and repository fixtures.

Profiles: ``dev`` (the default, quick) and ``ci`` (more examples); choose one with the
``HYPOTHESIS_PROFILE`` environment variable. Real data lives in ``../shared/data/real`` beside
the checkout (or ``/work/shared/data/real``) unless ``STOREMON_REAL_DATA`` names another
folder; tests that need it skip without it.
"""

from __future__ import annotations

import os
import zoneinfo
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The tzdata package, not the host's copy, decides what every zone means.
zoneinfo.reset_tzpath(to=[])

settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def _real_data_dir() -> Path:
    if "STOREMON_REAL_DATA" in os.environ:
        return Path(os.environ["STOREMON_REAL_DATA"])
    beside_checkout = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
    if beside_checkout.is_dir():
        return beside_checkout
    return Path("/work/shared/data/real")


REAL_DATA_DIR = _real_data_dir()


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """
    The folder of the real data files; skip the test when it is absent.
    """
    if not (REAL_DATA_DIR / "business_hours.csv").is_file():
        pytest.skip(f"real data not found in {REAL_DATA_DIR} (set STOREMON_REAL_DATA)")
    return REAL_DATA_DIR


@pytest.fixture
def repository():  # type: ignore[no-untyped-def]
    """
    A fresh in-memory repository, the reference backend.
    """
    from storemon.testing import InMemoryRepository

    return InMemoryRepository()
