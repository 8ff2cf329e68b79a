"""How a report's stores are cut into shards: the fewest of at most N stores, as equal as
they can be (two workers taking half the shards each should finish together)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storemon.model import shard_stride


def test_the_four_times_set_makes_six_equal_shards() -> None:
    # 56,368 stores at most 10,000 a shard: 5 x 9,395 + 9,393, not 5 x 10,000 + 6,368.
    assert shard_stride(56_368, 10_000) == 9_395


def test_fewer_stores_than_a_shard_make_one_shard() -> None:
    assert shard_stride(7, 10_000) == 7
    assert shard_stride(0, 10_000) == 10_000


@given(st.integers(1, 2_000_000), st.integers(1, 200_000))
def test_fewest_shards_none_too_big_and_sizes_within_one_shard_count(
    stores: int, max_stores: int
) -> None:
    stride = shard_stride(stores, max_stores)
    fewest = -(-stores // max_stores)
    shards = -(-stores // stride)
    last = stores - (shards - 1) * stride
    assert 1 <= stride <= max_stores
    assert shards == fewest
    assert 1 <= last <= stride
    # Every shard but the last holds `stride` stores; the last is short by less than one
    # store per shard.
    assert stride - last < shards
