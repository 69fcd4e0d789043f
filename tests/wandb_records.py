"""Reads the records of an offline W&B run file (`run-<id>.wandb`), which wandb itself no longer
reads back in Python: a 7-byte header, then LevelDB-log framing (32 KiB blocks; each chunk is a
4-byte CRC, 2-byte length, 1-byte type FULL/FIRST/MIDDLE/LAST) around protobuf `Record`s."""
from __future__ import annotations

import json
import struct
from pathlib import Path

from wandb.proto import wandb_internal_pb2 as pb

HEADER, BLOCK, CHUNK_HEADER = 7, 32768, 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path) -> list[pb.Record]:
    data = Path(path).read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B run file"
    out, pending, offset = [], b"", HEADER
    while offset + CHUNK_HEADER <= len(data):
        left_in_block = BLOCK - offset % BLOCK
        if left_in_block < CHUNK_HEADER:  # block tail too short for a chunk: zero padding
            offset += left_in_block
            continue
        _, length, kind = struct.unpack("<IHB", data[offset:offset + CHUNK_HEADER])
        chunk = data[offset + CHUNK_HEADER:offset + CHUNK_HEADER + length]
        offset += CHUNK_HEADER + length
        pending = chunk if kind in (FULL, FIRST) else pending + chunk
        if kind in (FULL, LAST):
            record = pb.Record()
            record.ParseFromString(pending)
            out.append(record)
    return out


def run_record(path: Path) -> tuple[pb.RunRecord, dict]:
    """The run's first `run` record and its config as a dict (key → decoded JSON value)."""
    run = next(r.run for r in records(path) if r.WhichOneof("record_type") == "run")
    return run, {item.key: json.loads(item.value_json) for item in run.config.update}
