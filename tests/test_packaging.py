"""The wheel ships the CUDA sources and the loader finds them; the README's ops table is current."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_gen_ops_table():
    spec = importlib.util.spec_from_file_location("gen_ops_table", ROOT / "tools" / "gen_ops_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# What the fresh venv runs: import the installed package and read every kernel through the loader.
PROBE = """
import json
import autograd_gpu
from autograd_gpu import _kernels
print(json.dumps({
    "package": autograd_gpu.__file__,
    "kernel_dir": str(_kernels.kernel_dir()),
    "sources": {family: _kernels.source(family) for family in _kernels.KERNEL_FAMILIES},
}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    # Build from a copy so no stale build/ or *.egg-info in the checkout leaks into the wheel.
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("autograd_gpu", "kernels"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(src)],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("*.whl")
    return path


def test_wheel_holds_every_module_and_kernel(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {p.relative_to(ROOT).as_posix() for p in (ROOT / "autograd_gpu").rglob("*.py")}
    expected |= {
        f"autograd_gpu/kernels/{p.name}" for p in (ROOT / "kernels").iterdir() if p.suffix in (".cu", ".cuh")
    }
    expected |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "autograd_gpu" / "data").iterdir()}
    missing = expected - names
    assert not missing, f"not in the wheel (a package missing from pyproject.toml?): {sorted(missing)}"
    assert not [n for n in names if n.startswith(("tests/", "tools/", "kernels/"))]


def test_installed_wheel_loads_kernels_from_site_packages(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
         "--quiet", str(wheel)],
        check=True,
        capture_output=True,
        # NOTE: with the checkout on PYTHONPATH (make gpu-check) pip would see autograd_gpu as installed already
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )
    # The wheel's dependencies, numpy and ml_dtypes, come from the test interpreter, after the venv's own paths.
    dirs = {Path(importlib.util.find_spec(name).origin).parent.parent for name in ("numpy", "ml_dtypes")}
    (site / "_test_numpy.pth").write_text("".join(f"{d}\n" for d in sorted(dirs)))

    result = subprocess.run(
        [str(python), "-I", "-c", PROBE], cwd=tmp_path, check=True, capture_output=True, text=True
    )
    probe = json.loads(result.stdout)

    assert probe["package"], "autograd_gpu imports as a namespace package: no __init__.py"
    assert Path(probe["package"]).resolve().is_relative_to(site.resolve())
    kernel_dir = Path(probe["kernel_dir"]).resolve()
    assert kernel_dir == (site / "autograd_gpu" / "kernels").resolve()
    repo_files = {p.name: p.read_bytes() for p in (ROOT / "kernels").iterdir() if p.suffix in (".cu", ".cuh")}
    installed = {p.name: p.read_bytes() for p in kernel_dir.iterdir() if p.suffix in (".cu", ".cuh")}
    assert installed == repo_files

    # The same loader, run on the checkout, reads the repo's kernels/ and gives the same sources.
    from autograd_gpu import _kernels

    assert _kernels.kernel_dir().resolve() == ROOT / "kernels"
    assert set(probe["sources"]) == {Path(name).stem for name in repo_files if name.endswith(".cu")}
    for family, text in probe["sources"].items():
        assert text == _kernels.source(family), family


FAKE_OPS = [
    types.SimpleNamespace(name="mul", node_name="MulBackward0", group="arithmetic", kernel="mul_bwd"),
    types.SimpleNamespace(name="tanh", node_name="TanhBackward0", group="unary", kernel="tanh_bwd"),
    types.SimpleNamespace(name="argmax", node_name=None, group="reduction", kernel=None),
]


def test_gen_ops_table_rewrites_and_checks(tmp_path, capsys):
    gen = _load_gen_ops_table()
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\n{gen.START}\nold table\n{gen.END}\n\nafter\n")

    assert gen.main(["--check", "--readme", str(readme)], ops=FAKE_OPS) == 1
    assert gen.main(["--readme", str(readme)], ops=FAKE_OPS) == 0
    text = readme.read_text()
    assert "old table" not in text
    assert text.startswith("# title\n") and text.endswith("\n\nafter\n")
    assert "| arithmetic | `mul` | `MulBackward0` | `mul_bwd` |" in text
    assert "| reduction | `argmax` | — | — |" in text
    assert gen.main(["--check", "--readme", str(readme)], ops=FAKE_OPS) == 0
    # One op more makes the README stale again.
    more = FAKE_OPS + [types.SimpleNamespace(name="exp", node_name="ExpBackward0", group="unary", kernel=None)]
    assert gen.main(["--check", "--readme", str(readme)], ops=more) == 1


def test_gen_ops_table_needs_markers(tmp_path):
    gen = _load_gen_ops_table()
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    with pytest.raises(ValueError):
        gen.main(["--readme", str(readme)], ops=FAKE_OPS)


def test_readme_ops_table_is_current():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_ops_table.py"), "--check"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
