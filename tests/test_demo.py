"""`python -m autograd_gpu.demo`, run short: it trains, its last line is the test accuracy, and the checkpoint
it writes loads back into a fresh model and optimizer that reproduce that accuracy."""
import re
import subprocess
import sys

import pytest

import autograd_gpu as torch
from autograd_gpu import demo


@pytest.mark.parametrize("model,epochs,floor", [("mlp", 2, 0.85), ("cnn", 1, 0.7)])
def test_demo_trains_and_writes_a_loadable_checkpoint(tmp_path, model, epochs, floor):
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "autograd_gpu.demo", "--model", model, "--epochs", str(epochs),
                          "--batch-size", "64", "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    last = run.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"test accuracy: [01]\.\d{4}", last), run.stdout
    accuracy = float(last.split(": ")[1])
    assert accuracy >= floor

    assert (out / demo.CURVES).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ckpt = torch.load(out / demo.CHECKPOINT, map_location="cpu")
    assert ckpt["epoch"] == epochs and ckpt["model_kind"] == model
    fresh = demo.make_model(model)
    fresh.load_state_dict(ckpt["model"])
    optimizer = torch.optim.Adam(fresh.parameters(), lr=1e-3)
    optimizer.load_state_dict(ckpt["optimizer"])
    assert float(optimizer.state_dict()["state"][0]["step"]) == epochs * -(-1437 // 64)
    _, (x_test, y_test) = demo.load_data("cpu")
    assert f"{demo.evaluate(fresh, x_test, y_test):.4f}" == f"{accuracy:.4f}"


def test_demo_rejects_an_unknown_model():
    with pytest.raises(SystemExit):
        demo.parse_args(["--model", "resnet"])


def test_demo_on_cuda(tmp_path, capsys):
    """The demo with --device cuda, in this process: on the GPU, or on the CuPy stand-in without one."""
    demo.main(["--model", "cnn", "--epochs", "1", "--batch-size", "64", "--device", "cuda", "--out",
               str(tmp_path)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert "on cuda" in lines[0]
    assert re.fullmatch(r"test accuracy: [01]\.\d{4}", lines[-1]) and float(lines[-1].split(": ")[1]) >= 0.7
    ckpt = torch.load(tmp_path / demo.CHECKPOINT, map_location="cpu")
    assert ckpt["model_kind"] == "cnn" and all(v.device.type == "cpu" for v in ckpt["model"].values())
