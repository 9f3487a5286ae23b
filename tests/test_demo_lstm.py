"""`python -m autograd_gpu.demo --model lstm`: its model trains step for step as the same model does in PyTorch,
sampling with the carried LSTM state gives what re-reading the whole text gives, and the command, run short,
trains, writes its checkpoint and loss curve, and prints a sample that the checkpoint reproduces."""
import re
import subprocess
import sys

import numpy as np
import torch

import autograd_gpu as ag
from autograd_gpu import demo

TINY = ["--model", "lstm", "--steps", "20", "--batch-size", "8", "--block-size", "16", "--sample-length", "40"]
SIZES = dict(embedding_dim=6, hidden_size=12, num_layers=2)


class TorchCharLSTM(torch.nn.Module):
    """demo.CharLSTM written in PyTorch: the oracle."""

    def __init__(self, vocab_size, embedding_dim, hidden_size, num_layers):
        super().__init__()
        self.token = torch.nn.Embedding(vocab_size, embedding_dim)
        self.lstm = torch.nn.LSTM(embedding_dim, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = torch.nn.Linear(hidden_size, vocab_size)

    def forward(self, idx):
        return self.head(self.lstm(self.token(idx))[0])


def close(ours, theirs, what, tol=1e-9):
    np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol,
                               err_msg=what)


def test_lstm_trains_as_in_torch(device):
    text = demo.load_text()
    codec = demo.CharCodec(text)
    data = codec.encode(text[:2000], device=device)
    torch.manual_seed(0)
    theirs = TorchCharLSTM(len(codec.chars), **SIZES).double()
    ours = demo.CharLSTM(len(codec.chars), **SIZES)
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    ours.double().to(device)
    opt_a, opt_t = ag.optim.Adam(ours.parameters(), lr=1e-2), torch.optim.Adam(theirs.parameters(), lr=1e-2)
    generator = ag.Generator().manual_seed(0)
    losses = []
    for step in range(4):
        x, y = demo.get_batch(data, 4, 16, generator)
        loss = demo.train_step(ours, opt_a, x, y)
        xt, yt = torch.tensor(x.cpu().numpy()), torch.tensor(y.cpu().numpy())
        loss_t = torch.nn.functional.cross_entropy(theirs(xt).flatten(0, 1), yt.flatten())
        opt_t.zero_grad()
        loss_t.backward()
        opt_t.step()
        close(loss, loss_t, f"loss at step {step}")
        losses.append(loss_t.item())
    assert losses[-1] < losses[0]  # it learns
    for (n, p), (m, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert n == m
        close(p, q, f"{n} after training")


def test_sampling_carries_the_state(device):
    ag.manual_seed(0)
    model = demo.CharLSTM(7, **SIZES).double().to(device)
    context = ag.tensor([[1, 2, 3], [4, 5, 6]], device=device)
    out = demo.generate(model, context, 6, top_k=1, generator=ag.Generator(device=device).manual_seed(0))
    greedy = context
    with ag.no_grad():
        for _ in range(6):
            logits = model(greedy)[:, -1]  # the whole text again, from the zero state
            greedy = ag.cat([greedy, logits.argmax(-1, keepdim=True)], dim=1)
        carried, state = model.next_logits(greedy[:, :-1])
        carried, state = model.next_logits(greedy, state)
        np.testing.assert_allclose(carried.cpu().numpy(), model(greedy)[:, -1].cpu().numpy(), rtol=1e-12, atol=1e-12)
    assert out.tolist() == greedy.tolist()
    assert not model.training


def test_lstm_demo_trains_writes_a_checkpoint_and_samples(tmp_path):
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "autograd_gpu.demo", *TINY, "--out", str(out)], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    report, sample = run.stdout.split("\nsample:\n")
    lines = report.splitlines()
    assert "LSTM on 39,908 characters" in lines[0] and lines[0].endswith("on cpu")
    losses = [float(m.group(1)) for m in re.finditer(r"train loss (\d+\.\d+)", report)]
    assert len(losses) == 10 and losses[-1] < losses[0] - 0.5, losses  # from ln(58) = 4.06 down
    assert re.fullmatch(r"validation loss: \d\.\d{4} \(\d\.\d\d bits per character\)", lines[-1]), report
    sample = sample[:-1]  # (print's newline)
    assert len(sample) == 1 + 40 and sample[0] == "\n"
    assert (out / demo.CURVES).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    ckpt = ag.load(out / demo.CHECKPOINT, map_location="cpu")
    assert ckpt["model_kind"] == "lstm" and ckpt["step"] == 20
    codec = demo.CharCodec.from_tensor(ckpt["chars"])
    model = demo.CharLSTM(len(codec.chars))
    model.load_state_dict(ckpt["model"])
    optimizer = ag.optim.Adam(model.parameters())
    optimizer.load_state_dict(ckpt["optimizer"])
    assert float(optimizer.state_dict()["state"][0]["step"]) == 20
    assert optimizer.param_groups[0]["lr"] == 1e-2
    again = demo.generate(model, codec.encode("\n")[None], 40, generator=ag.Generator().manual_seed(0))
    assert codec.decode(again[0]) == sample


def test_lstm_demo_on_cuda(tmp_path, capsys):
    """On the GPU, or on the CuPy stand-in without one."""
    demo.main([*TINY, "--steps", "2", "--sample-length", "10", "--device", "cuda", "--out", str(tmp_path)])
    report, sample = capsys.readouterr().out.split("\nsample:\n")
    assert report.splitlines()[0].endswith("on cuda") and len(sample) == 1 + 10 + 1
    ckpt = ag.load(tmp_path / demo.CHECKPOINT, map_location="cpu")
    assert ckpt["model_kind"] == "lstm" and all(v.device.type == "cpu" for v in ckpt["model"].values())
