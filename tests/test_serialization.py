"""save / load: round trips of nested state, dtypes, 0-d and empty tensors, shared storage, devices, and the
safetensors layout checked by an independent reader and by the `safetensors` package itself."""
import ast
import collections
import io
import json
import math
import struct

import numpy as np
import pytest
import safetensors.numpy
import torch

import autograd_gpu as ag
from autograd_gpu import serialization

DTYPES = [ag.float16, ag.float32, ag.float64, ag.int32, ag.int64, ag.bool, ag.uint8, ag.int8, ag.int16]


def roundtrip(obj, **load_kw):
    buf = io.BytesIO()
    ag.save(obj, buf)
    return ag.load(io.BytesIO(buf.getvalue()), **load_kw)


def sample_tensor(dtype, shape=(2, 3), device="cpu"):
    a = np.arange(math.prod(shape)).reshape(shape) * 0.75 - 1
    return ag.tensor(a > 0 if dtype == ag.bool else a, device=device).to(dtype)


def same(a, b):
    assert type(a) is type(b)
    if isinstance(a, ag.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.device == b.device
        np.testing.assert_array_equal(a.cpu().detach().numpy(), b.cpu().detach().numpy())
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def read_safetensors(raw):
    """A tiny independent reader of the safetensors layout: {name: numpy array} and the metadata."""
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    np_types = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "I16": "<i2", "I32": "<i4", "I64": "<i8",
                "U8": "u1", "BOOL": "?"}
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=np_types[info["dtype"]]).reshape(info["shape"])
    return out, meta


def raw_file(header, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


# ---- round trips ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (5,), (2, 3)], ids=str)
def test_dtype_and_shape_round_trip(dtype, shape, device):
    t = sample_tensor(dtype, shape, device)
    back = roundtrip({"t": t})["t"]
    same(t, back)


def test_nested_state_round_trip(tmp_path):
    state = {
        "model": collections.OrderedDict([("fc.weight", ag.randn(4, 3)), ("fc.bias", ag.zeros(4)),
                                          ("bn.num_batches_tracked", ag.tensor(7))]),
        "optimizer": {
            "state": {0: {"step": ag.tensor(3.0), "exp_avg": ag.randn(4, 3)}, 1: {}},
            "param_groups": [{"params": [0, 1], "lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                              "amsgrad": False, "foreach": None, "name": "main"}],
        },
        "numbers": [1, -2 ** 62, 0.1, float("inf"), -float("inf"), float("nan"), True, None, "text", ""],
        "misc": ((), [], {}, {(1, "a"): "tuple key", 2.5: "float key", None: None}),
        "dtype": ag.float16,
        "device": ag.device("cpu"),
    }
    for path in (tmp_path / "a.safetensors", str(tmp_path / "b.safetensors")):
        ag.save(state, path)
        same(state, ag.load(path))
    same(state, roundtrip(state, weights_only=False))


def test_non_contiguous_and_requires_grad():
    base = ag.arange(12.0).reshape(3, 4)
    w = ag.randn(2, 2, requires_grad=True)
    back = roundtrip({"t": base.t(), "s": base[:, 1::2], "w": w})
    same(base.t().contiguous(), back["t"])
    same(base[:, 1::2].contiguous(), back["s"])
    assert back["w"].requires_grad and back["w"].is_leaf and not back["t"].requires_grad


def test_the_same_tensor_twice_is_written_once_and_loads_as_one_object():
    w = ag.randn(3, 3)
    buf = io.BytesIO()
    ag.save({"encoder": w, "decoder": w, "list": [w]}, buf)
    tensors, _ = read_safetensors(buf.getvalue())
    assert len(tensors) == 1
    back = ag.load(io.BytesIO(buf.getvalue()))
    assert back["encoder"] is back["decoder"] is back["list"][0]
    same(w, back["encoder"])


def test_views_of_one_storage():
    base = ag.arange(10.0)
    alias = base.detach()  # another tensor object over the same memory
    buf = io.BytesIO()
    ag.save({"base": base, "alias": alias, "tail": base[4:], "evens": base[::2]}, buf)
    tensors, _ = read_safetensors(buf.getvalue())
    assert len(tensors) == 3  # base and alias are one memory view
    back = ag.load(io.BytesIO(buf.getvalue()))
    assert back["base"] is not back["alias"]
    back["base"][0] = 100.0  # they still share memory after loading
    assert back["alias"][0].item() == 100.0
    same(ag.arange(4.0, 10.0), back["tail"])
    same(ag.arange(0.0, 10.0, 2.0), back["evens"])


# ---- the format ----------------------------------------------------------------------------------------
def test_file_is_safetensors_read_by_independent_readers(tmp_path):
    state = {"w": ag.randn(3, 2), "b": ag.arange(4, dtype=ag.int32), "h": ag.ones(2, dtype=ag.float16),
             "m": ag.tensor([True, False]), "s": ag.tensor(2.5, dtype=ag.float64), "e": ag.zeros(0, 4),
             "nested": {"x": ag.full((2,), 7, dtype=ag.int64)}}
    path = tmp_path / "ckpt.safetensors"
    ag.save(state, path)
    raw = path.read_bytes()
    assert struct.unpack("<Q", raw[:8])[0] % 8 == 0  # the header is padded, so the data starts aligned
    ours, meta = read_safetensors(raw)
    theirs = safetensors.numpy.load_file(str(path))
    expected = {"w": state["w"], "b": state["b"], "h": state["h"], "m": state["m"], "s": state["s"],
                "e": state["e"], "nested.x": state["nested"]["x"]}
    assert set(ours) == set(theirs) == set(expected)
    for name, t in expected.items():
        for got in (ours[name], theirs[name]):
            assert got.dtype == t.numpy().dtype and got.shape == tuple(t.shape)
            np.testing.assert_array_equal(got, t.numpy())
    assert set(meta) == {"format", "autograd_gpu"} and all(isinstance(v, str) for v in meta.values())


def test_load_reads_files_written_by_the_safetensors_package(tmp_path):
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, 2], dtype=np.int64),
              "c": np.array(True)}
    path = tmp_path / "x.safetensors"
    safetensors.numpy.save_file(arrays, str(path))
    back = ag.load(path)
    assert set(back) == set(arrays)
    for k, a in arrays.items():
        np.testing.assert_array_equal(back[k].numpy(), a)
        assert back[k].numpy().dtype == a.dtype


def test_torch_reads_a_state_dict_we_wrote(tmp_path):
    from safetensors.torch import load_file
    sd = {"weight": ag.randn(3, 2), "bias": ag.randn(3)}
    ag.save(sd, tmp_path / "m.safetensors")
    layer = torch.nn.Linear(2, 3)
    layer.load_state_dict(load_file(str(tmp_path / "m.safetensors")))
    np.testing.assert_array_equal(layer.weight.detach().numpy(), sd["weight"].numpy())


def test_no_pickle_anywhere():
    tree = ast.parse(open(serialization.__file__).read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and node.level == 0}
    assert imported <= {"collections", "json", "math", "os", "struct", "numpy"}  # no pickle, marshal, dill...


# ---- devices and map_location ----------------------------------------------------------------------------
def as_if_saved_on(obj, location):
    """The bytes of `obj` saved, with the recorded device of every tensor rewritten to `location`."""
    buf = io.BytesIO()
    ag.save(obj, buf)
    raw = buf.getvalue()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header["__metadata__"]["autograd_gpu"] = header["__metadata__"]["autograd_gpu"].replace(
        '"device":"cpu"', f'"device":"{location}"')
    return raw_file(header, raw[8 + n:])


def test_map_location_to_cpu(device):
    t = ag.randn(2, 3, device=device)
    for ml in ("cpu", ag.device("cpu"), {str(t.device): "cpu"}, lambda s, loc: s):
        back = roundtrip({"t": t}, map_location=ml)["t"]
        assert back.device == ag.device("cpu")
        np.testing.assert_array_equal(back.numpy(), t.cpu().numpy())
    assert roundtrip({"t": t})["t"].device == t.device  # no map_location: back where it was saved


def test_tensors_saved_on_a_gpu_load_there_or_say_how_to_map_them():
    raw = as_if_saved_on({"t": ag.arange(3.0)}, "cuda:0")
    if ag.cuda.is_available():
        assert ag.load(io.BytesIO(raw))["t"].device == ag.device("cuda:0")
    else:
        with pytest.raises(RuntimeError, match="map_location=torch.device\\('cpu'\\)"):
            ag.load(io.BytesIO(raw))
    for ml in ("cpu", {"cuda:0": "cpu"}):
        back = ag.load(io.BytesIO(raw), map_location=ml)["t"]
        assert back.device == ag.device("cpu") and back.tolist() == [0.0, 1.0, 2.0]


# ---- malformed files -------------------------------------------------------------------------------------
GOOD = {"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
DATA = np.array([1.0, 2.0], dtype="<f4").tobytes()


@pytest.mark.parametrize("raw,message", [
    (b"", "too short"),
    (b"\x05\x00\x00", "too short"),
    (struct.pack("<Q", 1000) + b"{}", "header length 1000"),
    (b"PK\x03\x04" + b"\x00" * 60, "torch.save"),
    (struct.pack("<Q", 5) + b"{nope", "not valid JSON"),
    (struct.pack("<Q", 2) + b"\xff\xfe", "not valid JSON"),
    (raw_file([1, 2]), "not a JSON object"),
    (raw_file(GOOD, DATA[:4]), "outside the 4-byte data buffer"),
    (raw_file({"t": {**GOOD["t"], "dtype": "F99"}}, DATA), "unsupported dtype 'F99'"),
    (raw_file({"t": {**GOOD["t"], "shape": [3]}}, DATA), "needs 12 bytes"),
    (raw_file({"t": {**GOOD["t"], "shape": [-2]}}, DATA), "invalid shape"),
    (raw_file({"t": {**GOOD["t"], "data_offsets": [0]}}, DATA), "invalid data_offsets"),
    (raw_file({"t": {"dtype": "F32"}}, DATA), "needs 'dtype', 'shape' and 'data_offsets'"),
    (raw_file(GOOD, DATA + b"\x00" * 8), "cover 8 bytes of the 16-byte"),
    (raw_file({"t": GOOD["t"], "u": GOOD["t"]}, DATA), "overlaps"),
    (raw_file({"__metadata__": {"autograd_gpu": "{not json"}, **GOOD}, DATA), "structure"),
    (raw_file({"__metadata__": {"autograd_gpu": '{"structure": {"tensor": "zz"}}'}, **GOOD}, DATA), "'zz'"),
    (raw_file({"__metadata__": {"autograd_gpu": '{"structure": {"set": [1]}}'}, **GOOD}, DATA), "'set'"),
])
def test_malformed_files_are_rejected(raw, message):
    with pytest.raises(RuntimeError, match="not a valid safetensors file") as e:
        ag.load(io.BytesIO(raw))
    assert message in str(e.value)


def test_a_torch_save_file_is_refused_not_unpickled(tmp_path):
    torch.save({"w": torch.zeros(2)}, tmp_path / "t.pt")
    with pytest.raises(RuntimeError, match="never loads"):
        ag.load(tmp_path / "t.pt")


def test_unsupported_objects_are_refused():
    class Thing:
        pass

    with pytest.raises(TypeError, match="Thing at 'a.0'"):
        ag.save({"a": [Thing()]}, io.BytesIO())
    with pytest.raises(TypeError, match="dict keys"):
        ag.save({ag.zeros(1): 1}, io.BytesIO())
    with pytest.raises(TypeError, match="binary file"):
        ag.save({}, 42)


# ---- module and optimizer state dicts ---------------------------------------------------------------------
def small_net():
    return ag.nn.Sequential(ag.nn.Conv2d(1, 3, 3, padding=1), ag.nn.BatchNorm2d(3), ag.nn.ReLU(), ag.nn.Flatten(),
                            ag.nn.Linear(3 * 4 * 4, 5))


def train_steps(net, opt, x, n):
    for _ in range(n):
        opt.zero_grad()
        net(x).square().mean().backward()
        opt.step()


def test_module_state_dict_round_trip(tmp_path, device):
    ag.manual_seed(0)
    net = small_net().to(device)
    x = ag.randn(4, 1, 4, 4, device=device)
    net(x)  # moves the batch-norm running statistics away from their initial values
    ag.save(net.state_dict(), tmp_path / "net.safetensors")
    sd = ag.load(tmp_path / "net.safetensors")
    same(net.state_dict(), sd)
    fresh = small_net().to(device)
    fresh.load_state_dict(sd)
    net.eval(), fresh.eval()
    np.testing.assert_array_equal(fresh(x).detach().cpu().numpy(), net(x).detach().cpu().numpy())
    # the same keys, shapes and dtypes as PyTorch's own module
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.BatchNorm2d(3), torch.nn.ReLU(),
                                 torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 5)).state_dict()
    assert [(k, tuple(v.shape), str(v.dtype)) for k, v in sd.items()] == \
        [(k, tuple(v.shape), str(v.dtype)) for k, v in theirs.items()]


@pytest.mark.parametrize("make_opt", [lambda p: ag.optim.Adam(p, lr=1e-2, betas=(0.8, 0.99), amsgrad=True),
                                      lambda p: ag.optim.SGD(p, lr=1e-2, momentum=0.9, nesterov=True)],
                         ids=["Adam", "SGD"])
def test_optimizer_state_dict_round_trip_resumes_training_exactly(make_opt, device):
    ag.manual_seed(0)
    x = ag.randn(4, 1, 4, 4, device=device)
    net = small_net().to(device)
    opt = make_opt(net.parameters())
    train_steps(net, opt, x, 3)
    ckpt = roundtrip({"model": net.state_dict(), "optimizer": opt.state_dict()})
    same(opt.state_dict(), ckpt["optimizer"])

    resumed = small_net().to(device)
    resumed.load_state_dict(ckpt["model"])
    resumed_opt = make_opt(resumed.parameters())
    resumed_opt.load_state_dict(ckpt["optimizer"])
    train_steps(net, opt, x, 2)
    train_steps(resumed, resumed_opt, x, 2)
    for a, b in zip(net.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())


# ---- damaged references, memory, exchanging checkpoints with PyTorch (issue 12) ----------------------------------
def _bn_file():
    bn = ag.nn.BatchNorm1d(3)
    with ag.no_grad():
        bn.running_mean.fill_(1.0)
        bn.running_var.fill_(7.0)
    buf = io.BytesIO()
    ag.save(bn.state_dict(), buf)
    return buf.getvalue()


def _edit_structure(data, edit):
    """The file `data` with its autograd_gpu structure (JSON in __metadata__) passed through `edit`."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    doc = json.loads(header["__metadata__"]["autograd_gpu"])
    edit(doc["structure"])
    header["__metadata__"]["autograd_gpu"] = json.dumps(doc)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data[8 + n:]


def _entries(structure):
    """name -> tensor entry of a saved state dict's structure ({"odict": [[name, entry], ...]})."""
    (items,) = structure.values()
    return {k: v for k, v in items if isinstance(v, dict) and "tensor" in v}


def test_a_damaged_object_number_is_refused_not_loaded_into_another_buffer():
    """A one-digit change in running_var's object number made load() return running_mean in its place."""
    data = _bn_file()

    def point_var_at_mean(structure):
        e = _entries(structure)
        e["running_var"]["object"] = e["running_mean"]["object"]

    with pytest.raises(RuntimeError, match="object .* is both tensor"):
        ag.load(io.BytesIO(_edit_structure(data, point_var_at_mean)))


def test_a_damaged_tensor_name_is_refused_when_a_saved_tensor_is_left_unreferenced():
    data = _bn_file()

    def point_var_at_mean(structure):
        e = _entries(structure)
        e["running_var"]["tensor"] = e["running_mean"]["tensor"]
        e["running_var"]["object"] = 99

    with pytest.raises(RuntimeError, match="refers to no saved tensor"):
        ag.load(io.BytesIO(_edit_structure(data, point_var_at_mean)))
    sd = ag.load(io.BytesIO(data))  # the undamaged file loads, each buffer its own
    assert sd["running_mean"].tolist() == [1.0] * 3 and sd["running_var"].tolist() == [7.0] * 3


def test_load_needs_about_one_file_size_of_memory(tmp_path):
    import tracemalloc
    path = tmp_path / "big.safetensors"
    ag.save({"w": ag.zeros(4, 1024, 1024), "b": ag.zeros(1024, dtype=ag.float64)}, path)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        sd = ag.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sd["w"].shape == (4, 1024, 1024)
    assert peak < 1.1 * size, f"load peaked at {peak / size:.2f}x the file size"
    sd["w"].add_(1.0)  # the loaded tensors are writable, and each is its own memory
    assert sd["w"].sum().item() == 4 * 1024 * 1024 and sd["b"].sum().item() == 0


def test_checkpoints_exchange_with_pytorch_both_ways(device):
    """A PyTorch state_dict loads into our module (through DLPack, no copy), ours into PyTorch's, and the two
    modules then compute the same outputs."""
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    tm(torch.randn(8, 3))  # (running statistics that are not the initial ones)
    tm.eval()
    ours = ag.nn.Sequential(ag.nn.Linear(3, 4), ag.nn.BatchNorm1d(4)).to(device)
    assert str(ours.load_state_dict(tm.state_dict())) == "<All keys matched successfully>"
    ours.eval()
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    want = tm(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(ag.tensor(x, device=device)).detach().cpu().numpy(), want, rtol=1e-5, atol=1e-6)
    back = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    back.load_state_dict({k: torch.from_numpy(v.detach().cpu().numpy()) for k, v in ours.state_dict().items()})
    back.eval()
    np.testing.assert_allclose(back(torch.from_numpy(x)).detach().numpy(), want, rtol=1e-6)
