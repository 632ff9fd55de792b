"""The files a reference script leaves for a C test: safetensors written with json + struct (the
`safetensors` package is not needed), and a fixture directory's pair of them,
  <dir>/PARAMS.safetensors  the model's parameters, with the metadata the C loader reads
  <dir>/STATE.safetensors   what the test compares: inputs, outputs, gradients, losses,
each read back after writing and compared with what was computed (a self-check of the writer).
Imported by the tools/reference/*_reference.py scripts.
"""
import json
import os
import struct
import sys

import numpy as np

DTYPES = {np.dtype("<f4"): "F32", np.dtype("<i4"): "I32", np.dtype("<i8"): "I64"}


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, numpy array float32, int32 or int64), written in that order."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, array in tensors:
        # astype, not ascontiguousarray: that one turns a scalar (shape ()) into shape (1,).
        array = np.asarray(array).astype(array.dtype.newbyteorder("<"), order="C")
        raw = array.tobytes()
        header[name] = {"dtype": DTYPES[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    temporary = path + ".tmp"
    with open(temporary, "wb") as out:
        out.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(temporary, path)


def read_safetensors(path):
    """The tensors of a file as {name: numpy array}, and the metadata (a self-check)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    types = {"F32": "<f4", "I32": "<i4", "I64": "<i8"}
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        raw = data[8 + n + begin : 8 + n + end]
        tensors[name] = np.frombuffer(raw, dtype=types[entry["dtype"]]).reshape(entry["shape"])
    return tensors, metadata


def write_checked(path, tensors, metadata):
    """write_safetensors, then the file read back: the same names in order, values, shapes and metadata."""
    write_safetensors(path, tensors, metadata)
    back, back_metadata = read_safetensors(path)
    assert back_metadata == metadata and list(back) == [name for name, _ in tensors], path
    assert all(np.array_equal(back[name], np.asarray(value)) for name, value in tensors), path


def write_fixture(directory, params, metadata, state, state_metadata):
    """<directory>/PARAMS.safetensors (params, metadata) and STATE.safetensors (state, state_metadata),
    each checked; params and state are lists of (name, numpy array)."""
    os.makedirs(directory, exist_ok=True)
    write_checked(os.path.join(directory, "PARAMS.safetensors"), params, metadata)
    write_checked(os.path.join(directory, "STATE.safetensors"), state, state_metadata)


def command_line(script):
    """How this script was run, for a fixture's metadata: "/usr/bin/python3 tools/reference/<script> <arguments>"."""
    return f"/usr/bin/python3 tools/reference/{script} " + " ".join(sys.argv[1:])


def print_step_losses(step_losses):
    for k, value in enumerate(step_losses):
        print(f"step {k} loss {value:.6f}")
