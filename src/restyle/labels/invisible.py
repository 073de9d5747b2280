"""The invisible watermark: a 64-bit hash of the task id in the DWT-DCT domain of the luma, at a canonical size.

Method (after the DWT-DCT scheme of the ``invisible-watermark`` package, rebuilt on PyWavelets and
OpenCV so no second OpenCV wheel is needed):

1. Luma is resized to 512 x 512, so the marks survive rescaling and any aspect ratio maps the same way.
2. One Haar DWT level; its LL band is cut into 4 x 4 blocks (4,096 of them) and each is DCT'd.
3. Each block's DC coefficient is quantised (QIM, step ``STEP``) onto one of two lattices: one payload
   bit, XOR a fixed key stream. The 88-bit frame (sync byte, 64-bit id, CRC-16) is repeated ~46 times
   over a fixed key-shuffled block order, and decoding averages the soft votes of the repeats.
4. The change is made at full resolution: the per-block correction is upscaled and added to the luma, and
   step 4 runs twice so rounding to uint8 is corrected too.

An unmarked image fails the sync byte and CRC (a false alarm about 1 in 16 million) and decodes as None.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import cv2
import numpy as np
import pywt

CANON = 512  # luma is marked at CANON x CANON
BLOCK = 4  # DCT block side in the LL band (8 x 8 canonical pixels)
STEP = 24.0  # QIM step on the DC coefficient: a block's mean luma moves by at most STEP / 16 (1.5 levels)
SYNC = 0xA5
FRAME_BITS = 8 + 64 + 16
KEY = 0x5EED_1A6E  # fixes the block shuffle and key stream; changing it orphans marked images
PASSES = 2


@dataclass(frozen=True)
class WatermarkReading:
    """What the decoder saw: the 64-bit id when the frame checks out, the raw frame bits and their confidence."""

    payload: int | None
    bits: np.ndarray  # FRAME_BITS decided bits (0/1)
    confidence: float  # mean |soft vote| over the frame: 0 for noise, near 1 for a clean mark

    @property
    def payload_hex(self) -> str | None:
        return None if self.payload is None else f"{self.payload:016x}"


def watermark_id(task_id: str) -> int:
    """The 64-bit id embedded for ``task_id``: the first 8 bytes of its BLAKE2b digest."""
    return int.from_bytes(hashlib.blake2b(task_id.encode("utf-8"), digest_size=8).digest(), "big")


def frame_bits(payload: int) -> np.ndarray:
    """The 88 frame bits for a 64-bit id: sync byte, the id, CRC-16 of both (MSB first)."""
    head = bytes([SYNC]) + payload.to_bytes(8, "big")
    data = head + _crc16(head).to_bytes(2, "big")
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8)).astype(np.uint8)


def embed(image: np.ndarray, payload: int) -> np.ndarray:
    """``image`` (H x W x 3 uint8 RGB) with the 64-bit ``payload`` embedded in its luma."""
    height, width = image.shape[:2]
    ycc = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    luma = ycc[..., 0].copy()
    bits = frame_bits(payload)[_bit_of_block()] ^ _key_stream()
    # 1. the DC targets: each block's DC moved to the nearest point of its bit's lattice
    dc = _block_dc(_canonical(luma))
    offset = bits.astype(np.float32) * (STEP / 2)
    target = np.round((dc - offset) / STEP) * STEP + offset
    # 2. correct towards the targets at full resolution, re-measuring after uint8 rounding each pass
    marked = luma
    for _ in range(PASSES):
        error = target - _block_dc(_canonical(marked))
        grid = _spread(error / (2 * BLOCK))  # DC = 2 * BLOCK * mean canonical pixel (orthonormal Haar + DCT)
        marked = np.clip(
            np.rint(marked + cv2.resize(grid, (width, height), interpolation=cv2.INTER_LINEAR)), 0, 255
        )
    ycc[..., 0] = marked
    return np.asarray(cv2.cvtColor(np.clip(np.rint(ycc), 0, 255).astype(np.uint8), cv2.COLOR_YCrCb2RGB))


def decode(image: np.ndarray) -> WatermarkReading:
    """The watermark in ``image`` (H x W x 3 uint8 RGB), or a reading whose payload is None."""
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)[..., 0].astype(np.float32)
    dc = _block_dc(_canonical(luma))
    soft = np.cos(2 * np.pi * dc / STEP)  # +1 on the bit-0 lattice, -1 on the bit-1 lattice
    soft = np.where(_key_stream() == 1, -soft, soft)
    votes = np.bincount(_bit_of_block(), weights=soft, minlength=FRAME_BITS) / np.bincount(
        _bit_of_block(), minlength=FRAME_BITS
    )
    bits = (votes < 0).astype(np.uint8)
    confidence = float(np.mean(np.abs(votes)))
    data = np.packbits(bits).tobytes()
    ok = data[0] == SYNC and _crc16(data[:9]) == int.from_bytes(data[9:11], "big")
    return WatermarkReading(int.from_bytes(data[1:9], "big") if ok else None, bits, confidence)


def block_bit_accuracy(image: np.ndarray, payload: int) -> float:
    """Share of blocks whose own (unvoted) bit is right: the raw channel's accuracy, for benches and tests."""
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)[..., 0].astype(np.float32)
    dc = _block_dc(_canonical(luma))
    seen = (np.cos(2 * np.pi * dc / STEP) < 0).astype(np.uint8) ^ _key_stream()
    return float(np.mean(seen == frame_bits(payload)[_bit_of_block()]))


def _canonical(luma: np.ndarray) -> np.ndarray:
    shrink = luma.shape[0] >= CANON and luma.shape[1] >= CANON
    return cv2.resize(luma, (CANON, CANON), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _block_dc(canonical: np.ndarray) -> np.ndarray:
    """DC of the DCT of every 4 x 4 block of the Haar LL band, in block raster order (float32, 4096)."""
    ll, _ = pywt.dwt2(canonical, "haar")
    ll = np.asarray(ll, dtype=np.float32)
    n = ll.shape[0] // BLOCK
    out = np.empty(n * n, dtype=np.float32)
    for i in range(n):
        for j in range(n):
            out[i * n + j] = cv2.dct(ll[i * BLOCK : (i + 1) * BLOCK, j * BLOCK : (j + 1) * BLOCK])[0, 0]
    return out


def _spread(per_block: np.ndarray) -> np.ndarray:
    """A CANON x CANON image holding each block's value over its 8 x 8 canonical pixels."""
    n = CANON // (2 * BLOCK)
    return np.kron(per_block.reshape(n, n), np.ones((2 * BLOCK, 2 * BLOCK), dtype=np.float32)).astype(
        np.float32
    )


_BLOCKS = (CANON // (2 * BLOCK)) ** 2
_RNG = np.random.default_rng(KEY)
_ORDER = _RNG.permutation(_BLOCKS)
_KEY_STREAM = _RNG.integers(0, 2, _BLOCKS).astype(np.uint8)
_BIT_OF_BLOCK = np.empty(_BLOCKS, dtype=np.int64)
_BIT_OF_BLOCK[_ORDER] = np.arange(_BLOCKS) % FRAME_BITS


def _bit_of_block() -> np.ndarray:
    return _BIT_OF_BLOCK


def _key_stream() -> np.ndarray:
    return _KEY_STREAM


def _crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc
