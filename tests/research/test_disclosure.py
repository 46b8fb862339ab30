"""Small-cell suppression: no hidden cell is shown, nor recoverable from the total."""

from __future__ import annotations

import pytest

from domain.disclosure import suppress


def recoverable(table, counts: dict[str, int]) -> list[str]:
    """Cells an attacker recovers exactly as total minus every other shown cell."""
    hidden = [c for c in table.cells if c.suppressed]
    if table.total.suppressed or len(hidden) != 1:
        return []
    shown = sum(c.count for c in table.cells if not c.suppressed)
    return [hidden[0].key] if table.total.count - shown == counts[hidden[0].key] else []


def test_small_cells_are_shown_as_below_threshold_and_never_sent():
    table = suppress({"A": 12, "B": 3, "C": 9}, 24, 5)
    cells = {c.key: c for c in table.cells}
    assert cells["B"].display == "< 5" and cells["B"].count is None
    assert table.total.display == "24"


def test_a_single_hidden_cell_gets_a_complement_so_the_total_does_not_reveal_it():
    counts = {"A": 12, "B": 3, "C": 9, "D": 0}
    table = suppress(counts, 24, 5)
    cells = {c.key: c for c in table.cells}
    # without secondary suppression: 24 - 12 - 9 - 0 = 3 = B
    # the smallest other cell, marked as hidden to protect another (it is not small)
    assert cells["C"].suppressed and cells["C"].count is None and cells["C"].display == "*"
    assert not cells["A"].suppressed and cells["D"].display == "0"
    assert recoverable(table, counts) == []


def test_two_small_cells_need_no_complement():
    table = suppress({"A": 12, "B": 3, "C": 2}, 17, 5)
    assert [c.key for c in table.cells if c.suppressed] == ["B", "C"]
    assert table.total.display == "17"


def test_a_small_total_hides_the_whole_table():
    table = suppress({"A": 3, "B": 1, "C": 0}, 4, 5)
    assert table.total.display == "< 5" and table.total.count is None
    assert all(c.suppressed for c in table.cells if c.key != "C")


@pytest.mark.parametrize("threshold", [3, 5, 11])
def test_no_table_reveals_a_hidden_cell(threshold):
    import itertools

    for values in itertools.product([0, 1, 2, 4, 6, 10, 15], repeat=3):
        counts = dict(zip("ABC", values, strict=True))
        table = suppress(counts, sum(values), threshold)
        for cell in table.cells:
            if 0 < counts[cell.key] < threshold:
                assert cell.suppressed, (counts, threshold)
        assert recoverable(table, counts) == [], (counts, threshold)
