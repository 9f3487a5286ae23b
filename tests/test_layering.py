"""Imports go one way: backend <- autograd graph <- tensor <- ops <- everything else (creation, nn, optim, utils,
the autograd API). Read from the package's source (ast), so it needs nothing imported:

* no module-level import cycle, and no module-level import of a higher layer;
* a function-local import of a package module is the exception that reaches *up* a layer (or across a cycle
  inside one), and says why on its line: ``# layering: <why>``. A local import of a lower layer is a
  module-level import written in the wrong place, and fails.
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "autograd_gpu"

# module (dotted, without the package name) -> layer; a package's modules inherit its entry unless listed
LAYERS = {
    "_device": 0, "_dtype": 0, "_kernels": 0, "_threads": 0, "size": 0, "_tensor_str": 0,
    "_random": 0,
    "autograd": 1, "autograd.engine": 1, "autograd.grad_mode": 1, "autograd.anomaly_mode": 1,
    "autograd._backward": 4, "autograd.function": 4, "autograd._gradcheck": 4, "autograd.functional": 4,
    "tensor": 2,
    "ops": 3, "_methods": 3,
}
LAYER_NAMES = ["backend", "autograd graph", "tensor", "ops", "api"]
MARK = "# layering:"


def _layer(module):
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in LAYERS:
            return LAYERS[".".join(parts[:k])]
    return 4  # creation, nn, optim, utils, serialization, viz, cuda, demo, the autograd API, the package root


def _modules():
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_pkg)
    return out


MODULES = _modules()


def _resolve(module, is_pkg, node):
    """The package modules an ImportFrom / Import node names (dotted, without the package name)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names if a.name.split(".")[0] == "autograd_gpu"]
        return [".".join(n.split(".")[1:]) for n in names]
    if node.level == 0:
        if (node.module or "").split(".")[0] != "autograd_gpu":
            return []
        base = node.module.split(".")[1:]
    else:
        here = module.split(".") if module else []
        pkg = here if is_pkg else here[:-1]
        base = pkg[:len(pkg) - (node.level - 1)] + (node.module.split(".") if node.module else [])
    targets = []
    for a in node.names:
        sub = ".".join(base + [a.name])
        targets.append(sub if sub in MODULES else ".".join(base))
    return targets


def _with_parents(target):
    """Importing a.b.c runs a/__init__, a/b/__init__ too."""
    parts = target.split(".") if target else []
    return [".".join(parts[:k]) for k in range(1, len(parts) + 1)]


def _imports():
    """(module, target, line, local, marked) for every import of a package module."""
    out = []
    for module, (path, is_pkg) in MODULES.items():
        text = path.read_text()
        lines = text.splitlines()
        tree = ast.parse(text)
        local_nodes = set()
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                for n in ast.walk(fn):
                    if isinstance(n, (ast.Import, ast.ImportFrom)):
                        local_nodes.add(id(n))
        for n in ast.walk(tree):
            if not isinstance(n, (ast.Import, ast.ImportFrom)):
                continue
            if isinstance(n, ast.ImportFrom) and n.module == "__future__":
                continue
            marked = any(MARK in lines[i] for i in range(n.lineno - 1, n.end_lineno))
            for target in _resolve(module, is_pkg, n):
                if target != module:
                    out.append((module, target, n.lineno, id(n) in local_nodes, marked))
    return out


IMPORTS = _imports()


def _where(module, line):
    return f"autograd_gpu/{MODULES[module][0].relative_to(PACKAGE)}:{line}"


def test_the_parser_sees_the_package():
    assert {"tensor", "ops.core", "autograd.engine", "nn.functional", "optim.adam"} <= set(MODULES)
    assert ("ops.core", "tensor") in {(m, t) for m, t, *_ in IMPORTS}


def test_module_level_imports_go_down():
    wrong = [f"{_where(m, line)}: {m} ({LAYER_NAMES[_layer(m)]}) imports {t} ({LAYER_NAMES[_layer(t)]})"
             for m, t, line, local, _ in IMPORTS if not local and _layer(t) > _layer(m)]
    assert not wrong, "module-level imports of a higher layer:\n" + "\n".join(wrong)


def test_no_module_level_import_cycle():
    # importing a.b.c runs the packages a and a.b first: an edge to each (but not to m's own packages, which are
    # running already when m runs)
    graph = {}
    for m, t, _, local, _ in IMPORTS:
        if not local:
            own = set(_with_parents(m))
            graph.setdefault(m, set()).update(d for d in _with_parents(t) if d not in own)
    state, cycles = {}, []

    def visit(m, stack):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                cycles.append(" -> ".join(stack[stack.index(d):] + [d]))
            elif d not in state:
                visit(d, stack)
        stack.pop()
        state[m] = 2

    for m in sorted(MODULES):
        if m not in state:
            visit(m, [])
    assert not cycles, "module-level import cycles:\n" + "\n".join(cycles)


def test_local_imports_reach_up_and_say_why():
    down = [f"{_where(m, line)}: {m} imports {t} inside a function: import it at module level"
            for m, t, line, local, marked in IMPORTS if local and not marked and _layer(t) < _layer(m)]
    unmarked = [f"{_where(m, line)}: {m} imports {t} inside a function without `{MARK} <why>`"
                for m, t, line, local, marked in IMPORTS if local and not marked and _layer(t) >= _layer(m)]
    assert not down + unmarked, "\n".join(down + unmarked)
