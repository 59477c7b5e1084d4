"""Keyed pseudonyms, shifts, splits and shards: stable for a secret, different across secrets, well spread."""

from collections import Counter

from deid.pseudonym import Keyring


def test_mappings_are_stable_and_keyed():
    a, b = Keyring(b"secret-one-0123456789"), Keyring(b"secret-two-0123456789")
    ids = [f"patient-{i}" for i in range(2000)]
    assert [a.subject_id(i) for i in ids] == [Keyring(b"secret-one-0123456789").subject_id(i) for i in ids]
    assert sum(a.subject_id(i) == b.subject_id(i) for i in ids) == 0
    assert len({a.subject_id(i) for i in ids}) == len(ids)
    assert all(0 <= a.subject_id(i) < 2**63 for i in ids)


def test_splits_follow_the_fractions_and_shards_spread():
    k = Keyring(b"secret-one-0123456789")
    ids = [f"p{i}" for i in range(20000)]
    splits = Counter(k.split(i, (0.8, 0.1, 0.1)) for i in ids)
    assert abs(splits["train"] / 20000 - 0.8) < 0.015
    assert abs(splits["held_out"] / 20000 - 0.1) < 0.015
    shards = Counter(k.shard(i, 8) for i in ids)
    assert set(shards) == set(range(8)) and min(shards.values()) > 2200


def test_shifts_are_whole_weeks_back_within_a_year():
    k = Keyring(b"secret-one-0123456789")
    shifts = {k.shift_days(f"p{i}") for i in range(5000)}
    assert shifts == {-7 * w for w in range(1, 53)}
