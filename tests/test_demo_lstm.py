"""`python -m autograd_gpu.demo --model lstm`: its model trains step for step as the same model does in PyTorch,
and sampling with the carried LSTM state gives what re-reading the whole text gives. (The command itself runs
in tests/test_demo_gpt.py, with the GPT's.)"""

import numpy as np
import torch

import autograd_gpu as ag
from autograd_gpu import demo

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
