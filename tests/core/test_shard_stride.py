"""How a report's stores are cut into shards: the fewest of at most N stores, as equal as
they can be (two workers taking half the shards each should finish together)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storemon.model import StoreRange, shard_stride, split_stores


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


@given(
    st.lists(st.text(max_size=4), unique=True).map(sorted),
    st.integers(1, 12),
    st.integers(1, 6),
)
def test_split_stores_cuts_every_store_into_one_range_of_nearly_equal_ones(
    store_ids: list[str], parts: int, min_stores: int
) -> None:
    ranges = split_stores(store_ids, parts, min_stores)
    assert 1 <= len(ranges) <= parts
    assert ranges[0].first is None
    assert ranges[-1].end is None
    counts = [sum(1 for store_id in store_ids if store_id in stores) for stores in ranges]
    # Each store in exactly one range, the ranges in order.
    for store_id in store_ids:
        assert [store_id in stores for stores in ranges].count(True) == 1
    assert [next(i for i, r in enumerate(ranges) if s in r) for s in store_ids] == sorted(
        next(i for i, r in enumerate(ranges) if s in r) for s in store_ids
    )
    if len(ranges) > 1:
        assert max(counts) - min(counts) <= 1
        assert min(counts) >= min_stores
    # As many ranges as the stores allow: one more would make one too small.
    assert len(ranges) == max(1, min(parts, len(store_ids) // min_stores))


def test_split_stores_of_no_store_is_one_open_range() -> None:
    assert split_stores([], 4) == [StoreRange()]
    assert split_stores(["a", "b", "c"], 2, min_stores=2) == [StoreRange()]
    assert split_stores(["a", "b", "c", "d", "e"], 2) == [
        StoreRange(None, "c"),
        StoreRange("c", None),
    ]
