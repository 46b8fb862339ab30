"""Stratified permuted-block randomization, reproducible from a secret seed.

Design
------
Each stratum (e.g. ``"ecog=0|site=BJ01"``) has its own, independent allocation
sequence made of blocks. A block's size is drawn uniformly from the configured block
sizes, and the block is a uniformly random permutation that contains every arm
exactly in proportion to its ratio (a 2:1 block of 6 holds 4 x A and 2 x B), so the
arms are balanced at the end of every block.

Randomness comes from HMAC-SHA256 used as a pseudo-random function (counter mode,
as in NIST SP 800-108 key derivation) rather than from :mod:`random`:

* ``stratum_key = HMAC(seed, "hbtrials/permuted-block/v1" | stratum)``;
* block *b*'s size and permutation draw 64-bit words from
  ``HMAC(stratum_key, purpose | b | counter)``.

Consequences:

* the sequence is a pure function of (seed, stratum, arms, block sizes): it can be
  regenerated for audit or after a crash, and nothing has to be stored;
* without the seed the next allocation cannot be predicted, even by someone who has
  seen every earlier allocation (HMAC is a PRF; Mersenne Twister output, by contrast,
  can be reconstructed from observed outputs);
* block *b* can be computed without generating earlier permutations, so the
  ``index``-th allocation only needs the sizes of the blocks before it;
* integers are drawn by rejection sampling, so there is no modulo bias.

Arms are put in canonical order (sorted by code) and block sizes are sorted, so the
order in which a trial's configuration lists them does not change the sequence. Any
change of seed, stratum key, arm codes, ratios or block sizes does.

All numbers here are 0-based: ``index``, ``block_number`` and ``position_in_block``.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "ALGORITHM",
    "MIN_SEED_BYTES",
    "Allocation",
    "AllocationSequence",
    "Block",
    "allocation_for",
    "single_arm",
    "stratum_key",
    "validate_design",
]

#: Bound into the key derivation: a future change of algorithm must use a new label
#: so that running trials keep their sequences.
ALGORITHM: Final = "hbtrials/permuted-block/v1"
#: A shorter secret could be brute-forced from a few observed allocations.
MIN_SEED_BYTES: Final = 16

_STRATUM_SEPARATOR: Final = "|"
_FACTOR_SEPARATOR: Final = "="


@dataclass(frozen=True)
class Allocation:
    """One allocation: ``index`` is its 0-based position in the stratum's sequence,
    ``block_number`` and ``position_in_block`` are 0-based too."""

    arm_code: str
    block_number: int
    position_in_block: int
    block_size: int
    index: int = 0


@dataclass(frozen=True)
class Block:
    """A permuted block: ``arm_codes[i]`` is the arm of allocation ``start_index + i``."""

    number: int
    start_index: int
    arm_codes: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.arm_codes)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_design(arms: Sequence[tuple[str, int]], block_sizes: Sequence[int]) -> None:
    """Check arms and block sizes of a randomized design; raise ``ValueError`` listing
    every problem.

    Rules: at least two arms, non-empty unique arm codes, ratios positive integers,
    at least one block size, every block size a positive multiple of the sum of the
    ratios (so a block can hold the arms exactly in proportion), no duplicate sizes.
    """
    problems: list[str] = []
    pairs: list[tuple[str, int]] = []
    if isinstance(arms, str | bytes) or not isinstance(arms, Sequence):
        raise ValueError(
            "arms must be a list of (arm_code, ratio) pairs, e.g. [('A', 1), ('B', 1)]"
        )
    for item in arms:
        if not isinstance(item, Sequence) or isinstance(item, str | bytes) or len(item) != 2:
            problems.append(f"each arm must be an (arm_code, ratio) pair, not {item!r}")
            continue
        code, ratio = item
        if not isinstance(code, str) or not code.strip():
            problems.append(f"arm code must be a non-empty string, not {code!r}")
            continue
        if not _is_int(ratio) or ratio < 1:
            problems.append(f"ratio of arm {code!r} must be a positive integer, not {ratio!r}")
            continue
        pairs.append((code, ratio))
    codes = [code for code, _ in pairs]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        problems.append(f"duplicate arm code(s): {', '.join(map(repr, duplicates))}")
    if len(arms) < 2:
        problems.append(
            f"a randomized design needs at least 2 arms (got {len(arms)}); "
            "use single_arm() for a single-arm trial"
        )

    if isinstance(block_sizes, str | bytes) or not isinstance(block_sizes, Sequence):
        problems.append(f"block sizes must be a list of integers, not {block_sizes!r}")
    elif not block_sizes:
        problems.append("at least one block size is required")
    else:
        total = sum(r for _, r in pairs) if len(pairs) == len(arms) else None
        for size in block_sizes:
            if not _is_int(size) or size < 1:
                problems.append(f"block size {size!r} must be a positive integer")
            elif total and size % total:
                ratio_text = ":".join(str(r) for _, r in pairs)
                examples = ", ".join(str(total * k) for k in range(1, 4))
                problems.append(
                    f"block size {size} is not a multiple of {total}, the sum of the "
                    f"ratios {ratio_text}; use e.g. {examples}"
                )
        valid = [s for s in block_sizes if _is_int(s)]
        repeated = sorted({s for s in valid if valid.count(s) > 1})
        if repeated:
            problems.append(f"duplicate block size(s): {', '.join(map(str, repeated))}")
    if problems:
        raise ValueError("; ".join(problems))


def _seed_bytes(seed: str | bytes) -> bytes:
    if isinstance(seed, str):
        seed = seed.encode("utf-8")
    if not isinstance(seed, bytes):
        raise TypeError(f"seed must be str or bytes, not {type(seed).__name__}")
    if len(seed) < MIN_SEED_BYTES:
        raise ValueError(
            f"seed must be at least {MIN_SEED_BYTES} bytes long (got {len(seed)}); "
            "generate one with secrets.token_hex(32)"
        )
    return seed


def stratum_key(factors: Mapping[str, str]) -> str:
    """Canonical stratum key: ``"factor=level|..."`` sorted by factor name.

    ``{"site": "BJ01", "ecog": "0"}`` -> ``"ecog=0|site=BJ01"``; no factors -> ``""``
    (unstratified). Names and levels are NFC-normalised (so visually identical text
    gives the same key) and must not contain ``|`` or ``=``, which would make the key
    ambiguous.
    """
    parts: list[tuple[str, str]] = []
    for name, level in factors.items():
        if not isinstance(name, str) or not isinstance(level, str):
            raise TypeError(f"stratification factors must map str to str, got {name!r}: {level!r}")
        name_n = unicodedata.normalize("NFC", name)
        level_n = unicodedata.normalize("NFC", level)
        if not name_n:
            raise ValueError("stratification factor names must not be empty")
        for text in (name_n, level_n):
            if _STRATUM_SEPARATOR in text or _FACTOR_SEPARATOR in text:
                raise ValueError(
                    f"stratification factor {name!r}={level!r}: names and levels must not "
                    f"contain {_STRATUM_SEPARATOR!r} or {_FACTOR_SEPARATOR!r}"
                )
        parts.append((name_n, level_n))
    names = [n for n, _ in parts]
    if len(set(names)) != len(names):
        raise ValueError("stratification factor names collide after normalisation")
    return _STRATUM_SEPARATOR.join(f"{n}{_FACTOR_SEPARATOR}{v}" for n, v in sorted(parts))


# ---------------------------------------------------------------------------
# Pseudo-random function
# ---------------------------------------------------------------------------


def _encode(*parts: str | int) -> bytes:
    """Unambiguous encoding of the HMAC message: each part length-prefixed."""
    out = bytearray()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part.to_bytes(8, "big")
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


class _Words:
    """64-bit words from HMAC-SHA256(key, message | counter), counter = 0, 1, ..."""

    def __init__(self, key: bytes, message: bytes) -> None:
        self._key = key
        self._message = message
        self._counter = 0
        self._buffer: list[int] = []

    def next(self) -> int:
        if not self._buffer:
            digest = hmac.new(
                self._key, self._message + self._counter.to_bytes(8, "big"), hashlib.sha256
            ).digest()
            self._counter += 1
            self._buffer = [int.from_bytes(digest[i : i + 8], "big") for i in range(24, -1, -8)]
        return self._buffer.pop()

    def below(self, n: int) -> int:
        """Uniform integer in ``[0, n)`` by rejection sampling (no modulo bias)."""
        if n <= 1:
            return 0
        limit = (1 << 64) - (1 << 64) % n
        while True:
            word = self.next()
            if word < limit:
                return word % n


# ---------------------------------------------------------------------------
# Sequences
# ---------------------------------------------------------------------------


class AllocationSequence:
    """The (conceptually infinite) allocation sequence of one stratum.

    Nothing but block sizes is generated ahead: ``allocation(i)`` computes the sizes
    of the blocks up to ``i`` (one HMAC each, cached on this object) and the single
    permutation that contains ``i``.
    """

    def __init__(
        self,
        seed: str | bytes,
        stratum: str | Mapping[str, str],
        arms: Sequence[tuple[str, int]],
        block_sizes: Sequence[int],
    ) -> None:
        validate_design(arms, block_sizes)
        if not isinstance(stratum, str):
            stratum = stratum_key(stratum)
        self._stratum = stratum
        self._arms: tuple[tuple[str, int], ...] = tuple(
            sorted((code, ratio) for code, ratio in arms)
        )
        self._block_sizes: tuple[int, ...] = tuple(sorted(block_sizes))
        self._ratio_sum = sum(r for _, r in self._arms)
        self._key = hmac.new(
            _seed_bytes(seed), _encode(ALGORITHM, "stratum", stratum), hashlib.sha256
        ).digest()
        # _starts[b] = index of the first allocation of block b; grows lazily.
        self._starts: list[int] = [0]

    def __repr__(self) -> str:
        # Never show the seed or the derived key.
        return (
            f"AllocationSequence(stratum={self._stratum!r}, arms={list(self._arms)!r}, "
            f"block_sizes={list(self._block_sizes)!r})"
        )

    @property
    def stratum(self) -> str:
        return self._stratum

    @property
    def arms(self) -> tuple[tuple[str, int], ...]:
        return self._arms

    @property
    def block_sizes(self) -> tuple[int, ...]:
        return self._block_sizes

    def _words(self, purpose: str, block_number: int) -> _Words:
        return _Words(self._key, _encode(purpose, block_number))

    def block_size(self, block_number: int) -> int:
        _check_index(block_number, "block_number")
        choice = self._words("block-size", block_number).below(len(self._block_sizes))
        return self._block_sizes[choice]

    def _start_of(self, block_number: int) -> int:
        while len(self._starts) <= block_number:
            last = len(self._starts) - 1
            self._starts.append(self._starts[last] + self.block_size(last))
        return self._starts[block_number]

    def block(self, block_number: int) -> Block:
        """Block ``block_number`` (0-based) with its permutation."""
        size = self.block_size(block_number)
        per_unit = size // self._ratio_sum
        codes = [code for code, ratio in self._arms for _ in range(ratio * per_unit)]
        words = self._words("permutation", block_number)
        for i in range(len(codes) - 1, 0, -1):  # Fisher-Yates
            j = words.below(i + 1)
            codes[i], codes[j] = codes[j], codes[i]
        return Block(block_number, self._start_of(block_number), tuple(codes))

    def _block_number_of(self, index: int) -> int:
        # Block sizes are >= 1, so block `index` starts at or after `index`: extend the
        # table until a block starts beyond `index`, then search it.
        while self._starts[-1] <= index:
            self._start_of(len(self._starts))
        low, high = 0, len(self._starts) - 1
        while low < high:  # largest b with _starts[b] <= index
            mid = (low + high + 1) // 2
            if self._starts[mid] <= index:
                low = mid
            else:
                high = mid - 1
        return low

    def allocation(self, index: int) -> Allocation:
        """The ``index``-th (0-based) allocation of this stratum."""
        _check_index(index, "index")
        number = self._block_number_of(index)
        block = self.block(number)
        position = index - block.start_index
        return Allocation(block.arm_codes[position], number, position, block.size, index)

    def __getitem__(self, index: int) -> Allocation:
        return self.allocation(index)

    def blocks(self) -> Iterator[Block]:
        """Blocks 0, 1, 2, ... (infinite)."""
        number = 0
        while True:
            yield self.block(number)
            number += 1

    def __iter__(self) -> Iterator[Allocation]:
        """Allocations 0, 1, 2, ... (infinite)."""
        for block in self.blocks():
            for position, code in enumerate(block.arm_codes):
                yield Allocation(
                    code, block.number, position, block.size, block.start_index + position
                )

    def take(self, n: int) -> list[Allocation]:
        """The first ``n`` allocations."""
        _check_index(n, "n")
        out: list[Allocation] = []
        if n == 0:
            return out
        for allocation in self:
            out.append(allocation)
            if len(out) == n:
                break
        return out


def _check_index(value: int, name: str) -> None:
    if not _is_int(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")


def allocation_for(
    seed: str | bytes,
    stratum: str | Mapping[str, str],
    arms: Sequence[tuple[str, int]],
    block_sizes: Sequence[int],
    index: int,
) -> Allocation:
    """The ``index``-th (0-based) allocation in ``stratum``.

    ``index`` is the number of participants already randomized in that stratum. The
    caller must serialise concurrent randomizations per stratum (e.g. a row lock on
    the stratum's counter) so that no index is used twice.
    """
    return AllocationSequence(seed, stratum, arms, block_sizes).allocation(index)


def single_arm(arm_code: str, index: int = 0) -> Allocation:
    """Allocation for a single-arm (non-randomized) trial: everyone gets ``arm_code``.

    Returned as an :class:`Allocation` (each participant its own block of one) so
    callers can treat single-arm and randomized trials alike.
    """
    if not isinstance(arm_code, str) or not arm_code.strip():
        raise ValueError(f"arm code must be a non-empty string, not {arm_code!r}")
    _check_index(index, "index")
    return Allocation(arm_code, index, 0, 1, index)
