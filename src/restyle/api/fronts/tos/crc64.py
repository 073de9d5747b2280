"""CRC-64/XZ (ECMA-182 polynomial, reflected, init and xorout all ones): the ``x-tos-hash-crc64ecma``
value the TOS SDK checks after every upload and download.

A byte-at-a-time table loop in Python is too slow for 20 MB, so long inputs are cut into equal
lanes whose CRCs numpy computes side by side (one table lookup per byte position across all lanes);
the lanes are then folded in order with the linear map "advance the register over one lane of zero
bytes". Each numpy step costs about the same whatever the lane count, and each fold a few Python
operations, so the lane length grows with the input (about sqrt(n / 10), a power of two from 64 to
4096): a 4 KB object does not pay for 4096 numpy steps.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

POLY = 0xC96C5795D7870F42  # ECMA-182, bit-reflected
MASK = (1 << 64) - 1
MIN_LANE, MAX_LANE = 64, 4096  # bytes per lane; the fold map's tables are built once per length
SMALL = 4 * MIN_LANE  # below this, the plain loop


def _make_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


TABLE = _make_table()
_TABLE_NP = np.array(TABLE, dtype=np.uint64)


def _update(register: int, data: bytes | memoryview) -> int:
    """The raw register after ``data`` (no init or xorout), one byte at a time."""
    table = TABLE
    for byte in bytes(data):
        register = table[(register ^ byte) & 0xFF] ^ (register >> 8)
    return register


def _lanes(columns: npt.NDArray[np.uint8], start: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Raw registers of every lane: ``columns[k]`` holds byte ``k`` of each lane."""
    register = start.copy()
    eight = np.uint64(8)
    mask = np.uint64(0xFF)
    for column in columns:
        register = _TABLE_NP[(register ^ column) & mask] ^ (register >> eight)
    return register


def lane_length(size: int) -> int:
    """The lane length for ``size`` bytes: numpy steps (one per lane byte) and folds (one per lane)
    cost about 10 to 1 per unit, so about sqrt(size / 10), a power of two in MIN_LANE..MAX_LANE."""
    target = max(1, int((size / 10) ** 0.5))
    return min(MAX_LANE, max(MIN_LANE, 1 << (target.bit_length() - 1)))


@cache
def _zero_advance(lane: int) -> tuple[tuple[int, ...], ...]:
    """Eight 256-entry tables of the linear map "register after ``lane`` zero bytes", one per register
    byte."""
    bits = np.array([1 << j for j in range(64)], dtype=np.uint64)
    images = [int(v) for v in _lanes(np.zeros((lane, 64), dtype=np.uint8), bits)]
    tables = []
    for k in range(8):
        table = []
        for value in range(256):
            out = 0
            for bit in range(8):
                if value >> bit & 1:
                    out ^= images[8 * k + bit]
            table.append(out)
        tables.append(tuple(table))
    return tuple(tables)


def crc64(data: bytes | bytearray | memoryview, register: int = MASK, lane: int | None = None) -> int:
    """CRC-64/XZ of ``data`` (``crc64(b"123456789") == 0x995DC9BBDF1939FA``); ``lane`` forces a lane
    length (the bench compares them), by default :func:`lane_length`.

    Steps: 1. the bytes before a whole number of lanes go through the plain loop (from the all-ones
    init); 2. numpy computes each lane's register from zero; 3. lanes fold in order, each one
    advancing the running register over LANE bytes; 4. xorout.
    """
    view = memoryview(data).cast("B")
    if len(view) < SMALL:
        return _update(register, view) ^ MASK
    lane = lane or lane_length(len(view))
    head = len(view) % lane
    # 1. head
    register = _update(register, view[:head])
    count = (len(view) - head) // lane
    if count:
        # 2. lanes, transposed so that each step reads one contiguous column
        body = np.frombuffer(view[head:], dtype=np.uint8).reshape(count, lane)
        registers = _lanes(np.ascontiguousarray(body.T), np.zeros(count, dtype=np.uint64))
        # 3. fold
        t0, t1, t2, t3, t4, t5, t6, t7 = _zero_advance(lane)
        for lane in registers.tolist():
            r = register
            register = (
                t0[r & 0xFF]
                ^ t1[r >> 8 & 0xFF]
                ^ t2[r >> 16 & 0xFF]
                ^ t3[r >> 24 & 0xFF]
                ^ t4[r >> 32 & 0xFF]
                ^ t5[r >> 40 & 0xFF]
                ^ t6[r >> 48 & 0xFF]
                ^ t7[r >> 56]
                ^ lane
            )
    # 4. xorout
    return register ^ MASK
