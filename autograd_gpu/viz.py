"""A picture of the backward graph in Graphviz DOT, drawn as torchviz draws it.

Blue boxes are leaves (labelled with their parameter name and shape), grey boxes the backward nodes, green
boxes the outputs, orange boxes saved tensors (show_saved=True). Edges run from producer to consumer.

>>> dot = make_dot(model(x).sum(), params=dict(model.named_parameters()))
>>> print(dot.source)             # DOT text
>>> dot.render("graph", format="svg")   # needs the Graphviz `dot` program
"""
import os
import shutil
import subprocess
from .ops.core import SavedTensor
from .tensor import Tensor

_NODE_ATTR = dict(style="filled", shape="box", align="left", fontsize="10", ranksep="0.1", height="0.2",
                  fontname="monospace")


class ExecutableNotFound(RuntimeError):
    """The Graphviz `dot` program is not installed (or not on PATH)."""


def _quote(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(attrs):
    return " ".join(f"{k}={_quote(v)}" for k, v in attrs.items())


class Digraph:
    """Just enough of graphviz.Digraph: `node`, `edge`, `source` / str(), `render`, `pipe`."""

    def __init__(self, node_attr=None, graph_attr=None, format="pdf"):
        self.node_attr = dict(node_attr or {})
        self.graph_attr = dict(graph_attr or {})
        self.format = format
        self.body = []

    def node(self, name, label=None, **attrs):
        if label is not None:
            attrs = {"label": label, **attrs}
        self.body.append(f"\t{name} [{_attrs(attrs)}]" if attrs else f"\t{name}")

    def edge(self, tail, head, **attrs):
        self.body.append(f"\t{tail} -> {head}" + (f" [{_attrs(attrs)}]" if attrs else ""))

    @property
    def source(self):
        head = ["digraph {"]
        if self.graph_attr:
            head.append(f"\tgraph [{_attrs(self.graph_attr)}]")
        if self.node_attr:
            head.append(f"\tnode [{_attrs(self.node_attr)}]")
        return "\n".join(head + self.body + ["}"]) + "\n"

    def __str__(self):
        return self.source

    def pipe(self, format=None):
        """The rendered image as bytes (runs `dot`)."""
        return _run_dot(["-T" + (format or self.format)], self.source.encode())

    def render(self, filename=None, directory=None, view=False, cleanup=False, format=None):
        """Save the DOT source to `filename` and render it to `filename.<format>`; returns that path."""
        fmt = format or self.format
        path = filename or "Digraph.gv"
        if directory:
            os.makedirs(directory, exist_ok=True)
            path = os.path.join(directory, path)
        with open(path, "w") as f:
            f.write(self.source)
        out = f"{path}.{fmt}"
        _run_dot(["-T" + fmt, "-o", out, path], None)
        if cleanup:
            os.remove(path)
        return out

    def _repr_svg_(self):
        return self.pipe("svg").decode()


def _run_dot(args, stdin):
    exe = shutil.which("dot")
    if exe is None:
        raise ExecutableNotFound("failed to execute 'dot', make sure the Graphviz executables are on your system's "
                                 "PATH (install Graphviz, e.g. `apt-get install graphviz` or `conda install graphviz`)")
    proc = subprocess.run([exe] + args, input=stdin, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"dot failed (exit status {proc.returncode}): {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def _size_to_str(shape):
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


def _saved_name(node, k):
    """A name for the k-th saved value of a node: PyTorch's self / other / result where it can tell."""
    op = getattr(node, "op", None)
    spec = op.save[k] if op is not None and k < len(op.save) else k
    if isinstance(spec, str):
        return "result" + spec[3:]
    if op is None:
        return f"saved_tensors[{k}]"
    return {0: "self", 1: "other"}.get(spec, f"input{spec}")


def _saved_entries(node):
    """(name, shape, key) for each saved tensor of node, read without unpacking (no version check)."""
    saved = getattr(node, "_saved", None)
    if type(saved) not in (list, tuple):  # freed, or waiting for a checkpoint recomputation
        return []
    out = []
    for k, s in enumerate(saved):
        if type(s) is SavedTensor:
            data = s.data if s.tensor is None else s.tensor._data
            out.append((_saved_name(node, k), data.shape, id(s)))
    return out


def make_dot(var, params=None, show_attrs=False, show_saved=False, max_attr_chars=50):
    """The backward graph of `var` (a Tensor or a tuple of Tensors) as a Digraph.

    params: a dict name -> Tensor (e.g. dict(model.named_parameters())) to label the leaves.
    show_saved: also draw the tensors each node saved for backward.
    """
    params = params or {}
    for v in params.values():
        if not isinstance(v, Tensor):
            raise TypeError(f"make_dot: params must map names to Tensors, got {type(v).__name__}")
    names = {id(v): k for k, v in params.items()}
    dot = Digraph(node_attr=_NODE_ATTR, graph_attr=dict(size="12,12"))
    seen = set()

    def var_label(t, name=None):
        return f"{name if name is not None else names.get(id(t), '')}\n {_size_to_str(t.shape)}"

    def add_nodes(root):
        stack = [root]
        while stack:
            fn = stack.pop()
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            dot.node(str(id(fn)), type(fn).__name__)
            if show_saved:
                for name, shape, key in _saved_entries(fn):
                    dot.edge(str(id(fn)), str(key), dir="none")
                    dot.node(str(key), f"{name}\n {_size_to_str(shape)}", fillcolor="orange")
            v = getattr(fn, "variable", None)
            if v is not None:
                seen.add(id(v))
                dot.node(str(id(v)), var_label(v), fillcolor="lightblue")
                dot.edge(str(id(v)), str(id(fn)))
            for child, _ in fn.next_functions:
                if child is not None:
                    dot.edge(str(id(child)), str(id(fn)))
                    stack.append(child)

    def add_base_tensor(t, color="darkolivegreen1"):
        while t is not None and id(t) not in seen:
            seen.add(id(t))
            dot.node(str(id(t)), var_label(t), fillcolor=color)
            if t.grad_fn is not None:
                add_nodes(t.grad_fn)
                dot.edge(str(id(t.grad_fn)), str(id(t)))
            base = t._base
            if base is not None:
                dot.edge(str(id(base)), str(id(t)), style="dotted")
            t, color = base, "darkolivegreen3"

    for v in (var if isinstance(var, (tuple, list)) else (var,)):
        add_base_tensor(v)
    return dot
