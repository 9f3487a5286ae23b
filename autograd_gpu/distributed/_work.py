"""The handle an `async_op=True` collective returns (PyTorch's `Work`)."""


class Work:
    """`wait()` returns once the collective's result is in its tensors (on the GPU: once the current stream is
    ordered after it, without blocking the host); `is_completed()` asks without waiting."""

    def __init__(self):
        self._done = False
        self._source = -1  # a recv's sender

    def _wait(self):  # a backend's: block until the transfer is over
        pass

    def _test(self):  # a backend's: whether the transfer is over, without blocking
        return True

    def _complete(self):  # a backend's: what follows the transfer (an average's division, copies out)
        pass

    def wait(self, timeout=None):
        if not self._done:
            self._wait()
            self._complete()
            self._done = True
        return True

    def is_completed(self):
        if not self._done and self._test():
            self._complete()
            self._done = True
        return self._done
