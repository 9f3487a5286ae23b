"""Thread-local grad mode: no_grad, enable_grad, set_grad_enabled, inference_mode."""
import functools
import threading


class _State(threading.local):
    def __init__(self):
        self.enabled = True
        self.inference = False


_state = _State()


def is_grad_enabled():
    return _state.enabled


def _set(mode):
    _state.enabled = bool(mode)


class _GradModeContext:
    """Base for the grad-mode context managers; each also works as a decorator."""

    _mode = True

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self._mode

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _Mode(mode):
                return fn(*args, **kwargs)
        return wrapper


class _Mode(_GradModeContext):
    def __init__(self, mode):
        self._mode = mode


class _NoParamDecorator(_GradModeContext):
    """Also usable as a bare decorator: `@no_grad` as well as `@no_grad()`."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamDecorator):
    """Disable gradient recording.

    >>> with no_grad():
    ...     y = x * 2          # y.requires_grad is False
    """
    _mode = False


class enable_grad(_NoParamDecorator):
    _mode = True


class set_grad_enabled(_GradModeContext):
    """set_grad_enabled(False) switches recording off at once; as a context manager it restores on exit."""

    def __init__(self, mode):
        self._prev = _state.enabled
        self._mode = bool(mode)
        _state.enabled = self._mode

    def __enter__(self):
        pass

    def __call__(self, fn):
        _state.enabled = self._prev  # used as a decorator: undo the switch made by __init__
        return super().__call__(fn)


class inference_mode(_GradModeContext):
    """Like no_grad (autograd_gpu has no separate inference tensors)."""

    def __new__(cls, mode=True):
        if callable(mode):  # bare decorator: @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self._mode = not mode

    def __enter__(self):
        super().__enter__()
        self._prev_inference = _state.inference
        _state.inference = not self._mode

    def __exit__(self, *exc):
        _state.inference = self._prev_inference
        return super().__exit__(*exc)

    def __call__(self, fn):
        mode = not self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapper


def is_inference_mode_enabled():
    """Whether an inference_mode block is active (here it only means grad recording is off inside it)."""
    return _state.inference
