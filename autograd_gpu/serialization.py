"""save / load in the safetensors layout, so nothing is ever unpickled.

A file is: 8 bytes (little-endian u64) giving the header length N, N bytes of JSON header, then the raw
little-endian tensor bytes. The header maps each tensor name to {"dtype", "shape", "data_offsets"} (offsets
relative to the byte buffer after the header, back to back). Any safetensors reader can open our files.
`__metadata__` (a str -> str map, as safetensors requires) holds under "autograd_gpu" the saved object's
structure as JSON: containers are tagged objects ({"dict": [[key, value], ...]}, {"list": [...]}, ...), a tensor
is {"tensor": name, ...} with the device it was saved from, and plain numbers, strings, bools and None are
themselves. A file without that entry (written by another safetensors writer) loads as {name: tensor}.
"""
import collections
import json
import math
import os
import struct

import numpy as np

from . import _device, _dtype
from .tensor import Tensor

_FORMAT_KEY = "autograd_gpu"
_FORMAT_VERSION = 1
_HEADER_LIMIT = 100 * 1024 * 1024  # the limit safetensors itself enforces

_ST_NAMES = {"float16": "F16", "float32": "F32", "float64": "F64", "uint8": "U8", "int8": "I8", "int16": "I16",
             "int32": "I32", "int64": "I64", "bool": "BOOL"}
_FROM_ST = {v: _dtype.by_name(k) for k, v in _ST_NAMES.items()}


# ---- save ---------------------------------------------------------------------------------------------
class _Writer:
    """Walks the object once: tensors go to `entries` (each distinct memory view once), the rest to JSON."""

    def __init__(self):
        self.entries = {}   # name -> host array (C-contiguous, little-endian)
        self.by_view = {}   # (device, data_ptr, shape, strides, dtype) -> name
        self.by_object = {}  # id(tensor) -> object number, so one tensor saved twice loads as one object
        self.keep = []      # the tensors seen, so their ids stay unique while we walk

    def encode(self, obj, path):
        if isinstance(obj, Tensor):
            return self.tensor(obj, path)
        if obj is None or isinstance(obj, (bool, int, str)):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, (np.bool_, np.integer, np.floating)):
            return self.encode(obj.item(), path)
        if isinstance(obj, _dtype.dtype):
            return {"dtype": obj.name}
        if isinstance(obj, _device.device):
            return {"device": str(obj)}
        if isinstance(obj, dict):
            tag = "odict" if isinstance(obj, collections.OrderedDict) else "dict"
            items = []
            for k, v in obj.items():
                if isinstance(k, Tensor) or not (k is None or isinstance(k, (bool, int, float, str, tuple))):
                    raise TypeError(f"autograd_gpu.save: dict keys must be str, int, float, bool, None or tuples "
                                    f"of those, got {type(k).__name__} at '{path or '<root>'}'")
                items.append([self.encode(k, path), self.encode(v, _join(path, k))])
            return {tag: items}
        if isinstance(obj, (list, tuple)):
            tag = "list" if isinstance(obj, list) else "tuple"
            return {tag: [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        raise TypeError(f"autograd_gpu.save can store tensors, numbers, strings, bools, None, dtypes, devices "
                        f"and dicts/lists/tuples of those (no pickling), got {type(obj).__name__} at "
                        f"'{path or '<root>'}'")

    def tensor(self, t, path):
        a = t._data
        view = (str(t.device), t.data_ptr(), a.shape, a.strides, a.dtype.str)
        name = self.by_view.get(view)
        if name is None:
            name = self.by_view[view] = self._fresh_name(path or "tensor")
            host = _device.to_host(a)
            host = host if host.flags.c_contiguous else host.copy(order="C")  # (ascontiguousarray makes 0-d 1-d)
            self.entries[name] = host.astype(host.dtype.newbyteorder("<"), copy=False)
        if id(t) not in self.by_object:
            self.by_object[id(t)] = len(self.by_object)
            self.keep.append(t)
        out = {"tensor": name, "object": self.by_object[id(t)], "device": str(t.device)}
        if t.requires_grad:
            out["requires_grad"] = True
        parameter = _parameter_class()
        if parameter is not None and isinstance(t, parameter):
            out["parameter"] = True
        return out

    def _fresh_name(self, base):
        name, i = base, 1
        while name in self.entries or name == "__metadata__":
            name, i = f"{base}#{i}", i + 1
        return name


def _parameter_class():
    try:
        from .nn import Parameter  # layering: nn (which saves through this module) loads after it
    except ImportError:
        return None
    return Parameter


def _join(path, key):
    return f"{path}.{key}" if path else str(key)


def save(obj, f):
    """Write `obj` (a state dict, or nested dicts/lists/tuples of tensors, numbers, strings, bools, None)
    to the path or binary file `f`, in the safetensors format.

    >>> torch.save({"model": model.state_dict(), "optim": opt.state_dict()}, "ckpt.safetensors")
    """
    w = _Writer()
    structure = w.encode(obj, "")
    # NOTE: wider dtypes first keeps every tensor's offset aligned to its item size (the header is padded to 8).
    names = sorted(w.entries, key=lambda n: -w.entries[n].dtype.itemsize)
    header, offset = {}, 0
    for n in names:
        a = w.entries[n]
        header[n] = {"dtype": _ST_NAMES[a.dtype.name], "shape": list(a.shape),
                     "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    meta = {"format": "pt", _FORMAT_KEY: json.dumps({"version": _FORMAT_VERSION, "structure": structure},
                                                    allow_nan=False, separators=(",", ":"))}
    header = {"__metadata__": meta, **header}
    text = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with _open(f, "wb") as out:
        out.write(struct.pack("<Q", len(text)))
        out.write(text)
        for n in names:
            out.write(w.entries[n].reshape(-1).view(np.uint8))


class _Borrowed:
    """A user's file object, not closed on exit."""

    def __init__(self, fobj):
        self.fobj = fobj

    def __enter__(self):
        return self.fobj

    def __exit__(self, *exc):
        return False


def _open(f, mode):
    if isinstance(f, (str, os.PathLike)):
        return open(f, mode)
    if (mode == "wb" and hasattr(f, "write")) or (mode == "rb" and hasattr(f, "read")):
        return _Borrowed(f)
    raise TypeError(f"expected a path (str or os.PathLike) or a binary file object, got {type(f).__name__}")


# ---- load ---------------------------------------------------------------------------------------------
def _bad(msg):
    return RuntimeError(f"autograd_gpu.load: not a valid safetensors file: {msg}")


def _read_header(data):
    if len(data) < 8:
        raise _bad(f"the file is {len(data)} bytes long, too short for the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8 or n > _HEADER_LIMIT:
        hint = " (a file written by torch.save is a pickle/zip archive, which autograd_gpu never loads)" \
            if data[:2] == b"PK" or data[:1] == b"\x80" else ""
        raise _bad(f"the header length {n} is more than the {len(data) - 8} bytes after it{hint}")
    try:
        header = json.loads(bytes(data[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise _bad(f"the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise _bad("the header is not a JSON object")
    return header, memoryview(data)[8 + n:]


def _read_tensors(header, buf):
    arrays, ends = {}, []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
            raise _bad(f"tensor '{name}' needs 'dtype', 'shape' and 'data_offsets'")
        dt = _FROM_ST.get(info["dtype"])
        if dt is None:
            raise _bad(f"tensor '{name}' has unsupported dtype {info['dtype']!r} (supported: "
                       f"{', '.join(_FROM_ST)})")
        shape, offsets = info["shape"], info["data_offsets"]
        if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
            raise _bad(f"tensor '{name}' has an invalid shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)):
            raise _bad(f"tensor '{name}' has invalid data_offsets {offsets!r}")
        begin, end = offsets
        if not 0 <= begin <= end <= len(buf):
            raise _bad(f"tensor '{name}' has data_offsets {offsets} outside the {len(buf)}-byte data buffer "
                       f"(truncated file?)")
        nbytes = math.prod(shape) * dt.itemsize
        if end - begin != nbytes:
            raise _bad(f"tensor '{name}' of dtype {info['dtype']} and shape {shape} needs {nbytes} bytes, but "
                       f"its data_offsets {offsets} span {end - begin}")
        arr = np.frombuffer(buf, dtype=dt.np.newbyteorder("<"), count=math.prod(shape), offset=begin)
        # NOTE: a view of the file's buffer where it can be one (native byte order, aligned), so loading needs
        # one file size of memory, not two; the views do not overlap (checked below)
        if not arr.dtype.isnative or not arr.flags.aligned or not arr.flags.writeable:
            arr = arr.astype(dt.np)
        arrays[name] = arr.reshape(shape)
        ends.append((begin, end))
    ends.sort()
    pos = 0
    for begin, end in ends:
        if begin != pos:
            raise _bad(f"the tensor data overlaps or leaves a gap at byte {pos}")
        pos = end
    if pos != len(buf):
        raise _bad(f"the tensors cover {pos} bytes of the {len(buf)}-byte data buffer")
    return arrays


class _Reader:
    def __init__(self, arrays, map_location):
        self.arrays = arrays
        self.map_location = map_location
        self.objects = {}   # object number -> Tensor
        self.object_names = {}  # object number -> the name of its tensor in the file
        self.used = set()   # the names of the file's tensors the structure refers to
        self.on_device = {}  # (name, device) -> array there, so shared views stay shared

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, dict) and isinstance(node.get("tensor"), str):
            return self.tensor(node)
        if not isinstance(node, dict) or len(node) != 1:
            raise _bad(f"unexpected structure entry {str(node)[:80]}")
        (tag, value), = node.items()
        if tag in ("dict", "odict"):
            out = collections.OrderedDict() if tag == "odict" else {}
            for item in value:
                if not isinstance(item, list) or len(item) != 2:
                    raise _bad(f"unexpected dict item {str(item)[:80]}")
                k = self.decode(item[0])
                out[tuple(k) if isinstance(k, list) else k] = self.decode(item[1])
            return out
        if tag == "list":
            return [self.decode(v) for v in value]
        if tag == "tuple":
            return tuple(self.decode(v) for v in value)
        if tag == "float":
            return float(value)
        if tag == "dtype":
            return _dtype.by_name(value.removeprefix("torch."))
        if tag == "device":
            return _device.device(value)
        raise _bad(f"unknown structure tag {tag!r}")

    def tensor(self, node):
        number = node.get("object")
        name = node["tensor"]
        if number is not None and number in self.objects:
            if self.object_names[number] != name:
                raise _bad(f"object {number} is both tensor '{self.object_names[number]}' and tensor '{name}'")
            return self.objects[number]
        if name not in self.arrays:
            raise _bad(f"the structure refers to a tensor '{name}' that the file does not hold")
        self.used.add(name)
        t = self.place(name, node.get("device", "cpu"))
        parameter = _parameter_class()
        if node.get("parameter") and parameter is not None:
            t = parameter(t, requires_grad=bool(node.get("requires_grad")))
        if node.get("requires_grad") and not t.requires_grad:
            t.requires_grad_(True)
        if number is not None:
            self.objects[number] = t
            self.object_names[number] = name
        return t

    def place(self, name, saved_on):
        ml = self.map_location
        if callable(ml) and not isinstance(ml, (str, _device.device)):
            cpu = Tensor._make(self.arrays[name])
            moved = ml(cpu, saved_on)
            if moved is not None:
                return moved if isinstance(moved, Tensor) else Tensor._make(moved)
            target = saved_on
        elif isinstance(ml, dict):
            target = ml.get(saved_on, saved_on)
        elif ml is not None:
            target = ml
        else:
            target = saved_on
        dev = _device.device(target)
        if dev.type == "cuda" and not _device.cuda_available():
            raise RuntimeError("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() "
                               "is False. If you are running on a CPU-only machine, please use torch.load with "
                               "map_location=torch.device('cpu') to map your storages to the CPU.")
        dev = _device.resolve(dev)
        key = (name, dev)
        arr = self.on_device.get(key)
        if arr is None:
            arr = self.arrays[name]
            if dev.type == "cuda":
                cp = _device.cupy()
                with cp.cuda.Device(dev.index):
                    arr = cp.asarray(arr)
            self.on_device[key] = arr
        return Tensor._make(arr)


def load(f, map_location=None, *, weights_only=True, mmap=None):
    """Read what `save` wrote from the path or binary file `f`.

    Tensors return to the device they were saved from unless `map_location` says otherwise: a device or
    string ('cpu', 'cuda:0'), a dict {saved location: new location}, or a callable(tensor_on_cpu, location)
    returning a tensor (None keeps the default). Nothing is unpickled whatever `weights_only` says.

    >>> ckpt = torch.load("ckpt.safetensors", map_location="cpu")
    """
    with _open(f, "rb") as src:
        data = _read_all(src)
    header, buf = _read_header(data)
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict):
        raise _bad("__metadata__ is not a JSON object")
    arrays = _read_tensors(header, buf)
    reader = _Reader(arrays, map_location)
    if _FORMAT_KEY not in meta:  # a plain safetensors file: a dict of its tensors
        return {name: reader.place(name, "cpu") for name in arrays}
    try:
        doc = json.loads(meta[_FORMAT_KEY])
        structure = doc["structure"]
    except (TypeError, ValueError, KeyError) as e:
        raise _bad(f"the autograd_gpu structure in __metadata__ is not valid ({e})") from None
    out = reader.decode(structure)
    unused = sorted(set(arrays) - reader.used)
    if unused:  # (a damaged reference: another tensor's data would have been loaded in its place)
        raise _bad(f"the structure refers to no saved tensor '{unused[0]}' (of {len(unused)} unreferenced)")
    return out


def _read_all(src):
    """The whole file in one writable buffer (the tensors become views of it): read into a bytearray of the
    file's size where the size is known, else in chunks."""
    try:
        size = os.fstat(src.fileno()).st_size - src.tell()
    except (AttributeError, OSError, ValueError):  # (io.BytesIO and other file-likes have no descriptor)
        size = None
    if size is not None and hasattr(src, "readinto"):
        data = bytearray(size)
        n = src.readinto(data)
        if n == size:
            return data
        del data[n:]
        return data + _read_all_chunks(src)
    return _read_all_chunks(src)


def _read_all_chunks(src):
    data = bytearray()
    while True:
        chunk = src.read(1 << 24)
        if not isinstance(chunk, (bytes, bytearray)):
            raise TypeError(f"the file object returned {type(chunk).__name__} from read(), expected bytes "
                            "(open the file in binary mode)")
        if not chunk:
            return data
        data += chunk

