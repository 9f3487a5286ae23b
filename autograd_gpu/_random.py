"""Random numbers: one seeded numpy Generator for the CPU and one CuPy Generator per GPU, made lazily.
`manual_seed` reseeds all of them; a `Generator` object carries its own state."""
import numpy as np

from . import _device

_state = {"seed": None, "cpu": None, "cuda": {}}


def _fresh_seed():
    return int(np.random.SeedSequence().entropy % (2 ** 63))


def manual_seed(seed):
    seed = int(seed)
    _state["seed"] = seed
    _state["cpu"] = np.random.default_rng(seed)
    _state["cuda"] = {}
    return Generator().manual_seed(seed)


def seed():
    s = _fresh_seed()
    manual_seed(s)
    return s


def initial_seed():
    if _state["seed"] is None:
        _state["seed"] = _fresh_seed()
    return _state["seed"]


class Generator:
    """torch.Generator: an independent random stream (CPU or CUDA)."""

    def __init__(self, device="cpu"):
        self.device = _device.device(device) if not isinstance(device, _device.device) else device
        if self.device.type == "cuda" and self.device.index is None:
            self.device = _device.resolve(self.device)
        self._seed = _fresh_seed()
        self._rng = None

    def manual_seed(self, seed):
        self._seed = int(seed)
        self._rng = None
        return self

    def seed(self):
        self._seed = _fresh_seed()
        self._rng = None
        return self._seed

    def initial_seed(self):
        return self._seed

    def _get(self, dev):
        if dev.type != self.device.type:
            raise RuntimeError(f"Expected a '{dev.type}' device type for generator but found "
                               f"'{self.device.type}'")
        if self._rng is None:
            self._rng = _make_rng(dev, self._seed)
        return self._rng


def _make_rng(dev, seed):
    if dev.type == "cpu":
        return np.random.default_rng(seed)
    cp = _device.cupy()
    with cp.cuda.Device(dev.index):
        return cp.random.default_rng(seed)


def _rng(dev, generator):
    if generator is not None:
        return generator._get(dev)
    if dev.type == "cpu":
        if _state["cpu"] is None:
            _state["cpu"] = np.random.default_rng(initial_seed())
        return _state["cpu"]
    g = _state["cuda"].get(dev.index)
    if g is None:
        g = _state["cuda"][dev.index] = _make_rng(dev, initial_seed() + dev.index)
    return g


_FLOAT_DRAWS = {"random": "random", "normal": "standard_normal", "exponential": "standard_exponential"}


def sample(kind, size, dt, dev, generator=None, low=None, high=None, endpoint=False):
    """uniform [0, 1) ('random'), standard normal ('normal'), standard exponential ('exponential') or integers
    in [low, high) ([low, high] with endpoint) of dtype dt on dev."""
    rng = _rng(dev, generator)
    with _device.on(dev):
        if kind == "integers":
            return rng.integers(low, high, size=size, dtype=np.int64, endpoint=endpoint).astype(dt.np, copy=False)
        fdt = dt.np if dt.np in (np.float32, np.float64) else np.float32
        out = getattr(rng, _FLOAT_DRAWS[kind])(size, dtype=fdt)
        return out.astype(dt.np, copy=False)


def draw(method, dev, generator, *args, size=None):
    """`rng.<method>(*args, size=size)` (poisson, geometric: int64 counts) from dev's generator, on dev; array
    arguments are on dev already."""
    rng = _rng(dev, generator)
    with _device.on(dev):
        return getattr(rng, method)(*args, size=size)


def permutation(n, dev, generator=None):
    rng = _rng(dev, generator)
    with _device.on(dev):
        if dev.type == "cpu":
            return rng.permutation(n).astype(np.int64)
        # NOTE: cupy.random.Generator has no permutation(): the order that sorts n uniform keys is a uniform
        # random permutation (float64 keys: ties are vanishingly rare), made on the device without a sync
        return rng.random(n, dtype=np.float64).argsort().astype(np.int64)


# the default CPU generator's state as bytes: numpy's PCG64 state (128-bit state and increment) and its buffered
# 32-bit half draw; a numpy Generator keeps nothing else, so these 40 bytes restore its stream exactly
STATE_BYTES = 40


def get_cpu_state():
    st = _rng(_device.device("cpu"), None).bit_generator.state
    raw = (st["state"]["state"].to_bytes(16, "little") + st["state"]["inc"].to_bytes(16, "little")
           + int(st["has_uint32"]).to_bytes(4, "little") + int(st["uinteger"]).to_bytes(4, "little"))
    return np.frombuffer(raw, np.uint8).copy()


def set_cpu_state(raw):
    raw = bytes(raw)
    rng = _rng(_device.device("cpu"), None)
    rng.bit_generator.state = {"bit_generator": "PCG64",
                               "state": {"state": int.from_bytes(raw[:16], "little"),
                                         "inc": int.from_bytes(raw[16:32], "little")},
                               "has_uint32": int.from_bytes(raw[32:36], "little"),
                               "uinteger": int.from_bytes(raw[36:40], "little")}
