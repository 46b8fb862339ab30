"""Tests of domain.randomization (pure Python, no Django)."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest

from domain.randomization import (
    MIN_SEED_BYTES,
    Allocation,
    AllocationSequence,
    allocation_for,
    single_arm,
    stratum_key,
    validate_design,
)

SEED = "known-answer-test-seed-0123456789"
OTHER_SEED = "another-secret-seed-abcdefghijkl"
ONE_TO_ONE = [("A", 1), ("B", 1)]
TWO_TO_ONE = [("CRYO", 2), ("STD", 1)]


def arms_of(allocations: list[Allocation]) -> str:
    return "".join(a.arm_code for a in allocations)


# ---------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------


def test_known_answer() -> None:
    """Pins the algorithm: a change here would silently re-randomize running trials."""
    seq = AllocationSequence(SEED, "site=BJ01", ONE_TO_ONE, [4, 6])
    assert arms_of(seq.take(30)) == "BAABABAABBABBABBAAAABBBAABBAAB"
    assert [seq.block_size(b) for b in range(8)] == [4, 6, 4, 4, 6, 6, 4, 4]
    seq = AllocationSequence(SEED, "site=BJ01", TWO_TO_ONE, [3, 6])
    assert [a.arm_code for a in seq.take(6)] == ["STD", "CRYO", "CRYO", "CRYO", "STD", "CRYO"]


def test_same_seed_and_stratum_give_the_same_sequence() -> None:
    first = AllocationSequence(SEED, "site=BJ01|ecog=0", ONE_TO_ONE, [4, 6]).take(200)
    second = AllocationSequence(SEED, "site=BJ01|ecog=0", ONE_TO_ONE, [4, 6]).take(200)
    assert first == second
    as_bytes = AllocationSequence(SEED.encode(), "site=BJ01|ecog=0", ONE_TO_ONE, [4, 6]).take(200)
    assert as_bytes == first


def test_different_seed_gives_a_different_sequence() -> None:
    a = arms_of(AllocationSequence(SEED, "s=1", ONE_TO_ONE, [4, 6]).take(200))
    b = arms_of(AllocationSequence(OTHER_SEED, "s=1", ONE_TO_ONE, [4, 6]).take(200))
    assert a != b


def test_strata_are_independent() -> None:
    sequences = {
        key: arms_of(AllocationSequence(SEED, key, ONE_TO_ONE, [4, 6]).take(200))
        for key in ("site=BJ01|ecog=0", "site=BJ01|ecog=1", "site=SH02|ecog=0", "")
    }
    assert len(set(sequences.values())) == len(sequences)
    # A stratum's sequence does not depend on what happened in other strata.
    again = AllocationSequence(SEED, "site=SH02|ecog=0", ONE_TO_ONE, [4, 6])
    assert arms_of(again.take(200)) == sequences["site=SH02|ecog=0"]


def test_stratum_may_be_given_as_factors() -> None:
    by_key = AllocationSequence(SEED, "ecog=0|site=BJ01", ONE_TO_ONE, [4, 6]).take(50)
    by_factors = AllocationSequence(SEED, {"site": "BJ01", "ecog": "0"}, ONE_TO_ONE, [4, 6])
    assert by_factors.stratum == "ecog=0|site=BJ01"
    assert by_factors.take(50) == by_key


def test_configuration_order_does_not_matter() -> None:
    a = AllocationSequence(SEED, "s", [("A", 1), ("B", 1)], [4, 6]).take(100)
    b = AllocationSequence(SEED, "s", [("B", 1), ("A", 1)], [6, 4]).take(100)
    assert a == b


def test_allocation_for_matches_the_sequence() -> None:
    expected = AllocationSequence(SEED, "site=BJ01", TWO_TO_ONE, [3, 6, 9]).take(300)
    for index in range(0, 300, 7):
        got = allocation_for(SEED, "site=BJ01", TWO_TO_ONE, [3, 6, 9], index)
        assert got == expected[index]
        assert got.index == index
    # Random access in any order on one object gives the same answers.
    seq = AllocationSequence(SEED, "site=BJ01", TWO_TO_ONE, [3, 6, 9])
    for index in (299, 0, 150, 3, 298):
        assert seq[index] == expected[index]


def test_allocation_far_into_the_sequence() -> None:
    seq = AllocationSequence(SEED, "s", ONE_TO_ONE, [4, 6])
    allocation = allocation_for(SEED, "s", ONE_TO_ONE, [4, 6], 5000)
    block = seq.block(allocation.block_number)
    assert block.start_index + allocation.position_in_block == 5000
    assert block.arm_codes[allocation.position_in_block] == allocation.arm_code


def test_allocation_fields_are_consistent() -> None:
    seq = AllocationSequence(SEED, "s", ONE_TO_ONE, [4, 6])
    allocations = seq.take(100)
    for previous, current in itertools.pairwise(allocations):
        if current.block_number == previous.block_number:
            assert current.position_in_block == previous.position_in_block + 1
        else:
            assert current.block_number == previous.block_number + 1
            assert current.position_in_block == 0
            assert previous.position_in_block == previous.block_size - 1
    assert allocations[0].block_number == 0 and allocations[0].position_in_block == 0


def test_repr_does_not_reveal_the_seed() -> None:
    seq = AllocationSequence(SEED, "s", ONE_TO_ONE, [4])
    assert SEED not in repr(seq)


# ---------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arms", "sizes"),
    [
        (ONE_TO_ONE, [4, 6]),
        (ONE_TO_ONE, [2]),
        (TWO_TO_ONE, [3, 6, 9]),
        ([("X", 1), ("Y", 2), ("Z", 3)], [6, 12]),
    ],
)
def test_every_block_is_balanced_to_the_ratio(
    arms: list[tuple[str, int]], sizes: list[int]
) -> None:
    seq = AllocationSequence(SEED, "s", arms, sizes)
    total = sum(r for _, r in arms)
    allocations = seq.take(600)
    by_block: dict[int, list[Allocation]] = {}
    for a in allocations:
        by_block.setdefault(a.block_number, []).append(a)
    complete = [block for block in by_block.values() if len(block) == block[0].block_size]
    assert len(complete) >= len(by_block) - 1
    for block in complete:
        counts = Counter(a.arm_code for a in block)
        multiple = len(block) // total
        assert counts == {code: ratio * multiple for code, ratio in arms}
    # Equivalently, the running imbalance returns to zero at every block end.
    for block in seq.blocks():
        if block.start_index > 600:
            break
        assert Counter(block.arm_codes) == {
            code: ratio * (block.size // total) for code, ratio in arms
        }


def test_block_sizes_are_drawn_from_the_list() -> None:
    seq = AllocationSequence(SEED, "s", TWO_TO_ONE, [3, 6, 9])
    sizes = [seq.block_size(b) for b in range(300)]
    assert set(sizes) == {3, 6, 9}
    seq = AllocationSequence(SEED, "s", ONE_TO_ONE, [4])
    assert {seq.block_size(b) for b in range(50)} == {4}


# ---------------------------------------------------------------------------
# Statistical sanity (fixed seeds: deterministic, not flaky)
# ---------------------------------------------------------------------------


def chi_square(counts: list[int]) -> float:
    expected = sum(counts) / len(counts)
    return sum((c - expected) ** 2 / expected for c in counts)


@pytest.mark.parametrize("seed", [SEED, OTHER_SEED])
def test_permutations_are_uniform(seed: str) -> None:
    """All 6 orderings of AABB appear about equally often (chi-square, df=5)."""
    seq = AllocationSequence(seed, "stat", ONE_TO_ONE, [4])
    counts = Counter(seq.block(b).arm_codes for b in range(3000))
    assert len(counts) == math.comb(4, 2)
    # 20.52 is the 99.9% quantile of chi-square with 5 degrees of freedom.
    assert chi_square(list(counts.values())) < 20.52


def test_two_to_one_permutations_are_uniform() -> None:
    seq = AllocationSequence(SEED, "stat", TWO_TO_ONE, [3])
    counts = Counter(seq.block(b).arm_codes for b in range(3000))
    assert set(counts) == {
        ("CRYO", "CRYO", "STD"),
        ("CRYO", "STD", "CRYO"),
        ("STD", "CRYO", "CRYO"),
    }
    # 13.82: 99.9% quantile of chi-square with 2 degrees of freedom.
    assert chi_square(list(counts.values())) < 13.82


def test_block_size_choice_and_positions_are_unbiased() -> None:
    seq = AllocationSequence(SEED, "stat", ONE_TO_ONE, [4, 6])
    n_blocks = 4000
    blocks = [seq.block(b) for b in range(n_blocks)]
    # Block sizes: binomial(4000, 0.5); 4 standard deviations is about 126.
    fours = sum(1 for b in blocks if b.size == 4)
    assert abs(fours - n_blocks / 2) < 4 * math.sqrt(n_blocks / 4)
    # Each position of a block is A with probability 1/2.
    for size in (4, 6):
        same_size = [b for b in blocks if b.size == size]
        for position in range(size):
            a_count = sum(1 for b in same_size if b.arm_codes[position] == "A")
            n = len(same_size)
            assert abs(a_count - n / 2) < 4 * math.sqrt(n / 4), (size, position)


def test_next_allocation_is_not_predictable_from_the_first_in_block() -> None:
    """Given the first arm of a block of 4, the second is the same arm 1/3 of the time."""
    seq = AllocationSequence(SEED, "stat", ONE_TO_ONE, [4])
    n = 3000
    same = sum(1 for b in range(n) if len(set(seq.block(b).arm_codes[:2])) == 1)
    assert abs(same - n / 3) < 4 * math.sqrt(n * (1 / 3) * (2 / 3))


# ---------------------------------------------------------------------------
# Stratum keys
# ---------------------------------------------------------------------------


def test_stratum_key_is_canonical() -> None:
    assert stratum_key({"site": "BJ01", "ecog": "0"}) == "ecog=0|site=BJ01"
    assert stratum_key({"ecog": "0", "site": "BJ01"}) == "ecog=0|site=BJ01"
    assert stratum_key({}) == ""
    # NFC normalisation: composed and decomposed forms give one key.
    assert stratum_key({"site": "Z\u00fcrich"}) == stratum_key({"site": "Zu\u0308rich"})


@pytest.mark.parametrize(
    ("factors", "error"),
    [
        ({"site": "BJ|01"}, ValueError),
        ({"si=te": "BJ01"}, ValueError),
        ({"site": "a=b"}, ValueError),
        ({"": "x"}, ValueError),
        ({"ecog": 0}, TypeError),
    ],
)
def test_stratum_key_rejects_ambiguous_input(factors: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        stratum_key(factors)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arms", "sizes", "message"),
    [
        ([("A", 1)], [2], "at least 2 arms"),
        ([], [2], "at least 2 arms"),
        ([("A", 1), ("B", 0)], [2], "ratio of arm 'B' must be a positive integer"),
        ([("A", 1), ("B", -1)], [2], "ratio of arm 'B' must be a positive integer"),
        ([("A", 1), ("B", 1.5)], [2], "ratio of arm 'B' must be a positive integer"),
        ([("A", True), ("B", 1)], [2], "ratio of arm 'A' must be a positive integer"),
        ([("A", 1), ("", 1)], [2], "arm code must be a non-empty string"),
        ([("A", 1), ("A", 1)], [2], "duplicate arm code(s): 'A'"),
        ([("A", 1), ("B",)], [2], "each arm must be an (arm_code, ratio) pair"),
        ([("A", 1), ("B", 1)], [], "at least one block size is required"),
        ([("A", 1), ("B", 1)], [3], "block size 3 is not a multiple of 2"),
        ([("A", 2), ("B", 1)], [4, 6], "block size 4 is not a multiple of 3"),
        ([("A", 1), ("B", 1)], [0], "block size 0 must be a positive integer"),
        ([("A", 1), ("B", 1)], [-4], "block size -4 must be a positive integer"),
        ([("A", 1), ("B", 1)], [4.0], "block size 4.0 must be a positive integer"),
        ([("A", 1), ("B", 1)], [4, 4], "duplicate block size(s): 4"),
        ([("A", 1), ("B", 1)], 4, "block sizes must be a list"),
    ],
)
def test_invalid_designs(arms: list, sizes: list, message: str) -> None:
    with pytest.raises(ValueError) as info:
        validate_design(arms, sizes)
    assert message in str(info.value)
    with pytest.raises(ValueError):
        allocation_for(SEED, "s", arms, sizes, 0)


def test_validation_reports_all_problems_at_once() -> None:
    with pytest.raises(ValueError) as info:
        validate_design([("A", 1), ("A", 0)], [])
    text = str(info.value)
    assert "ratio of arm 'A'" in text and "at least one block size" in text


def test_valid_designs_pass() -> None:
    validate_design(ONE_TO_ONE, [2, 4, 6])
    validate_design(TWO_TO_ONE, [3, 6])
    validate_design([("A", 2), ("B", 2)], [4, 8])


@pytest.mark.parametrize("seed", ["", "short", b"0123456789abcde"])
def test_weak_seeds_are_rejected(seed: str | bytes) -> None:
    with pytest.raises(ValueError, match=f"at least {MIN_SEED_BYTES} bytes"):
        AllocationSequence(seed, "s", ONE_TO_ONE, [4])


def test_seed_type_is_checked() -> None:
    with pytest.raises(TypeError):
        AllocationSequence(12345678901234567890, "s", ONE_TO_ONE, [4])  # type: ignore[arg-type]


@pytest.mark.parametrize("index", [-1, 1.0, True, "3"])
def test_invalid_index(index: object) -> None:
    with pytest.raises(ValueError, match="index must be a non-negative integer"):
        allocation_for(SEED, "s", ONE_TO_ONE, [4], index)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Single-arm trials
# ---------------------------------------------------------------------------


def test_single_arm() -> None:
    assert single_arm("CRYO-TT-IO") == Allocation("CRYO-TT-IO", 0, 0, 1, 0)
    assert single_arm("CRYO-TT-IO", 41) == Allocation("CRYO-TT-IO", 41, 0, 1, 41)
    with pytest.raises(ValueError, match="arm code"):
        single_arm("")
    with pytest.raises(ValueError, match="index"):
        single_arm("A", -1)
