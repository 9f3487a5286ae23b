"""Write the README's supported-ops table from the op table in ``autograd_gpu.ops``.

    python tools/gen_ops_table.py           # rewrite README.md between the markers
    python tools/gen_ops_table.py --check   # exit 1 if README.md is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- ops-table:start -->"
END = "<!-- ops-table:end -->"


def _code(name):
    return f"`{name}`" if name else "—"


def render_table(ops) -> str:
    """Markdown table, one row per op, sorted by group then name."""
    rows = sorted(ops, key=lambda op: (op.group, op.name))
    lines = [
        "| group | op | backward node | CUDA backward kernel |",
        "|---|---|---|---|",
    ]
    for op in rows:
        lines.append(
            f"| {op.group} | {_code(op.name)} | {_code(op.node_name)} | {_code(op.kernel)} |"
        )
    lines += [
        "",
        f"{len(rows)} ops. A `—` backward node means the op is not differentiable; "
        "a `—` kernel means its backward runs as array ops (numpy or CuPy), with no custom kernel.",
    ]
    return "\n".join(lines)


def splice(text: str, table: str) -> str:
    """Put `table` between the markers in `text`, replacing what was there."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README needs {START} followed by {END}")
    return text[: start + len(START)] + "\n" + table + "\n" + text[end:]


def main(argv=None, ops=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the README is stale")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)

    if ops is None:
        sys.path.insert(0, str(ROOT))
        from autograd_gpu.ops import PUBLIC_OPS as ops

    text = args.readme.read_text(encoding="utf-8")
    new = splice(text, render_table(ops))
    if args.check:
        if new != text:
            print(f"{args.readme} is stale: run python tools/gen_ops_table.py", file=sys.stderr)
            return 1
        return 0
    if new != text:
        args.readme.write_text(new, encoding="utf-8")
        print(f"updated {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
