"""viz.make_dot: the DOT text has one box per node / leaf / output and one edge per graph edge."""
import re
import shutil
from collections import Counter

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import viz

NODE = re.compile(r'^\t(\d+) \[label="((?:[^"\\]|\\.)*)"(?: fillcolor="(\w+)")?\]$')
EDGE = re.compile(r'^\t(\d+) -> (\d+)(?: \[(.*)\])?$')


def parse(src):
    assert src.startswith("digraph {\n") and src.endswith("}\n")
    nodes, edges = {}, []
    for line in src.splitlines()[1:-1]:
        if line.startswith("\tgraph [") or line.startswith("\tnode ["):
            continue
        m = NODE.match(line)
        if m:
            nodes[m[1]] = (m[2].replace("\\n", "\n"), m[3])
            continue
        m = EDGE.match(line)
        assert m, f"unexpected DOT line {line!r}"
        edges.append((m[1], m[2], m[3]))
    return nodes, edges


def mlp(T, params, x):
    h = (x @ params["w1"] + params["b1"]).tanh()
    return ((h @ params["w2"]) ** 2).mean()


def _params(T):
    rng = np.random.default_rng(0)
    shapes = {"w1": (3, 4), "b1": (4,), "w2": (4, 2)}
    return {k: T.tensor(rng.standard_normal(s), requires_grad=True) for k, s in shapes.items()}


def _walk(fn):
    """Every node reachable from fn, and every edge (child -> parent)."""
    seen, edges, stack = {}, [], [fn]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen[id(n)] = n
        for c, _ in n.next_functions:
            if c is not None:
                edges.append((id(c), id(n)))
                stack.append(c)
    return seen, edges


def test_dot_text_matches_the_graph():
    params = _params(ag)
    x = ag.ones(5, 3, dtype=ag.float64)
    loss = mlp(ag, params, x)
    dot = viz.make_dot(loss, params=params)
    assert str(dot) == dot.source
    nodes, edges = parse(dot.source)
    fns, fn_edges = _walk(loss.grad_fn)
    # one box per backward node, labelled with its type name
    for i, n in fns.items():
        assert nodes[str(i)][0] == type(n).__name__
    # one box per leaf: its parameter name and shape, in light blue, feeding its AccumulateGrad
    for name, p in params.items():
        label, color = nodes[str(id(p))]
        assert label == f"{name}\n ({', '.join(map(str, p.shape))})" and color == "lightblue"
        assert (str(id(p)), str(id(p._grad_accumulator())), None) in edges
    # the output: its shape, in green, fed by its grad_fn
    assert nodes[str(id(loss))] == ("\n ()", "darkolivegreen1")
    assert (str(id(loss.grad_fn)), str(id(loss)), None) in edges
    # every graph edge, and nothing else
    graph_edges = Counter((str(a), str(b), None) for a, b in fn_edges)
    graph_edges.update([(str(id(p)), str(id(p._grad_accumulator())), None) for p in params.values()])
    graph_edges[(str(id(loss.grad_fn)), str(id(loss)), None)] += 1
    assert Counter(edges) == graph_edges
    assert len(nodes) == len(fns) + len(params) + 1


def test_same_node_types_as_torch():
    loss = mlp(ag, _params(ag), ag.ones(5, 3, dtype=ag.float64))
    tloss = mlp(torch, _params(torch), torch.ones(5, 3, dtype=torch.float64))
    nodes, _ = parse(viz.make_dot(loss).source)
    ours = Counter(label for label, color in nodes.values() if color is None)
    theirs = Counter(type(n).__name__ for n in _walk(tloss.grad_fn)[0].values())
    assert ours == theirs


def test_show_saved_tensors():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0], requires_grad=True)
    y = (a * b).exp()
    nodes, edges = parse(viz.make_dot(y, show_saved=True).source)
    saved = {k: v[0] for k, v in nodes.items() if v[1] == "orange"}
    assert sorted(saved.values()) == ["other\n (2)", "result\n (2)", "self\n (2)"]
    mul, exp = y.grad_fn.next_functions[0][0], y.grad_fn
    assert sorted(nodes[src][0] for src, dst, attrs in edges if dst in saved and attrs == 'dir="none"') == \
        ["ExpBackward0", "MulBackward0", "MulBackward0"]
    assert not [k for k, v in parse(viz.make_dot(y).source)[0].items() if v[1] == "orange"]
    assert str(id(mul)) in nodes and str(id(exp)) in nodes


def test_views_custom_functions_and_tuple_outputs():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    h = x * 2
    v = h[0]
    nodes, edges = parse(viz.make_dot((v, h.sum())).source)
    assert nodes[str(id(h))][1] == "darkolivegreen3"  # the base of the view
    assert (str(id(h)), str(id(v)), 'style="dotted"') in edges
    assert nodes[str(id(v))] == ("\n (2)", "darkolivegreen1")


def test_render_without_dot_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    dot = viz.make_dot(ag.tensor([1.0], requires_grad=True) * 2)
    with pytest.raises(RuntimeError, match="make sure the Graphviz executables are on your system's PATH"):
        dot.render(str(tmp_path / "g"), format="svg")


if shutil.which("dot") is not None:  # rendering is checked where Graphviz is installed (the DOT text always)
    @pytest.mark.parametrize("fmt,magic", [("svg", b"<svg"), ("png", b"\x89PNG")])
    def test_render_with_dot(tmp_path, fmt, magic):
        params = _params(ag)
        dot = viz.make_dot(mlp(ag, params, ag.ones(5, 3, dtype=ag.float64)), params=params, show_saved=True)
        out = dot.render(str(tmp_path / "graph"), format=fmt)
        assert out == str(tmp_path / f"graph.{fmt}")
        data = open(out, "rb").read()
        assert magic in data[:400]
        if fmt == "svg":
            assert b"w1" in data and b"TanhBackward0" in data
            assert dot.pipe("svg").startswith(b"<?xml")
