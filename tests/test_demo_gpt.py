"""`python -m autograd_gpu.demo --model gpt` (and `--model lstm`), run short: it trains on the text that ships
with the package, its loss falls, it writes a loss curve and a checkpoint, and the checkpoint loads back into a
fresh model that generates the very sample the demo printed."""
import re
import subprocess
import sys

import pytest

import autograd_gpu as torch
from autograd_gpu import demo

TINY = ["--steps", "20", "--batch-size", "8", "--block-size", "16", "--sample-length", "40"]
MODELS = {"gpt": lambda vocab: demo.GPT(vocab, block_size=16), "lstm": demo.CharLSTM}


@pytest.mark.parametrize("kind", MODELS)
def test_text_demo_trains_writes_a_checkpoint_and_samples(tmp_path, kind):
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "autograd_gpu.demo", "--model", kind, *TINY, "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    report, sample = run.stdout.split("\nsample:\n")
    lines = report.splitlines()
    assert f"{kind.upper()} on 39,908 characters" in lines[0] and lines[0].endswith("on cpu")
    losses = [float(m.group(1)) for m in re.finditer(r"train loss (\d+\.\d+)", report)]
    assert len(losses) == 10 and losses[-1] < losses[0] - 0.5, losses  # from ln(58) = 4.06 down
    assert re.fullmatch(r"validation loss: \d\.\d{4} \(\d\.\d\d bits per character\)", lines[-1]), report
    sample = sample[:-1]  # (print's newline)
    assert len(sample) == 1 + 40 and sample[0] == "\n"
    assert (out / demo.CURVES).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    ckpt = torch.load(out / demo.CHECKPOINT, map_location="cpu")
    assert ckpt["model_kind"] == kind and ckpt["step"] == 20 and ckpt["block_size"] == 16
    codec = demo.CharCodec.from_tensor(ckpt["chars"])
    assert codec.chars == "".join(sorted(set(demo.load_text())))
    model = MODELS[kind](len(codec.chars))
    model.load_state_dict(ckpt["model"])
    optimizer = torch.optim.Adam(model.parameters())
    optimizer.load_state_dict(ckpt["optimizer"])
    assert float(optimizer.state_dict()["state"][0]["step"]) == 20
    assert optimizer.param_groups[0]["lr"] == 1e-2
    again = demo.generate(model, codec.encode("\n")[None], 40, generator=torch.Generator().manual_seed(0))
    assert codec.decode(again[0]) == sample


@pytest.mark.parametrize("kind", MODELS)
def test_text_demo_on_cuda(tmp_path, capsys, kind):
    """On the GPU, or on the CuPy stand-in without one."""
    demo.main(["--model", kind, *TINY, "--steps", "2", "--sample-length", "10", "--device", "cuda", "--out",
               str(tmp_path)])
    report, sample = capsys.readouterr().out.split("\nsample:\n")
    assert report.splitlines()[0].endswith("on cuda") and len(sample) == 1 + 10 + 1
    ckpt = torch.load(tmp_path / demo.CHECKPOINT, map_location="cpu")
    assert ckpt["model_kind"] == kind and all(v.device.type == "cpu" for v in ckpt["model"].values())


def test_generate_with_top_k_1_is_greedy():
    torch.manual_seed(0)
    model = demo.GPT(7, block_size=4, d_model=8, nhead=2, num_layers=1)
    context = torch.tensor([[1, 2]])
    out = demo.generate(model, context, 6, top_k=1, generator=torch.Generator().manual_seed(0))
    greedy = context
    with torch.no_grad():
        for _ in range(6):
            greedy = torch.cat([greedy, model(greedy[:, -4:])[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert out.tolist() == greedy.tolist()
    assert not model.training  # generate leaves the model in eval mode, as it ran


def test_batches_are_windows_and_their_next_characters():
    data = torch.arange(100)
    x, y = demo.get_batch(data, 5, 8, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8)
    assert torch.equal(y, x + 1) and torch.equal(x[:, 1:], x[:, :-1] + 1)
    assert int(x.max()) <= 99 - 1


def test_the_text_ships_inside_the_package():
    text = demo.load_text()
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")
    assert len(text) < 64_000 and text.isascii()
    codec = demo.CharCodec(text)
    assert codec.decode(codec.encode(text[:500])) == text[:500]
