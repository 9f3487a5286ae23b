"""Train a small CNN (or an MLP) on scikit-learn's 8x8 handwritten digits: ``python -m autograd_gpu.demo``.

Written exactly as a PyTorch user would write it, with ``import autograd_gpu as torch``. Runs on the GPU
when one is present (``--device`` overrides), shows a progress bar per epoch, writes a checkpoint and a
plot of the loss and accuracy curves into ``--out``, and prints ``test accuracy: 0.xxxx`` last.
Needs the demo extra: ``pip install 'autograd-gpu[demo]'`` (scikit-learn, tqdm, matplotlib).

``--model gpt`` trains a small character-level GPT instead, on the opening of Shakespeare's Coriolanus that
ships with the package (``autograd_gpu/data/tiny_shakespeare.txt``), for ``--steps`` steps; it writes the
checkpoint and the loss curve the same way and prints a text it generates last. ``--model lstm`` does the same
with a character-level LSTM.
"""
import argparse
import math
import os
import time
from importlib import resources

import autograd_gpu as torch
from autograd_gpu import nn
from autograd_gpu.utils.data import DataLoader, TensorDataset
from autograd_gpu import distributed as dist
from autograd_gpu.utils.data.distributed import DistributedSampler

CHECKPOINT = "checkpoint.safetensors"
CURVES = "curves.png"
TEXT = "tiny_shakespeare.txt"


def make_model(kind):
    """The demo's network for 1x8x8 digit images: 'cnn' or 'mlp'."""
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 32 x 4 x 4
        nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 64 x 2 x 2
        nn.Flatten(), nn.Linear(64 * 2 * 2, 10))


def load_data(device):
    """The digits as standardised (N, 1, 8, 8) float32 images and int64 labels: a fixed 80/20 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    mean, std = x_train.mean(), x_train.std()

    def as_tensors(x, y):
        images = torch.tensor((x - mean) / std, dtype=torch.float32, device=device).reshape(-1, 1, 8, 8)
        return images, torch.tensor(y, dtype=torch.int64, device=device)

    return as_tensors(x_train, y_train), as_tensors(x_test, y_test)


def evaluate(model, images, labels):
    model.eval()
    with torch.no_grad():
        return (model(images).argmax(dim=1) == labels).float().mean().item()


def save_curves(history, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, history["loss"], marker="o")
    ax_loss.set(title="training loss", xlabel="epoch", ylabel="cross-entropy")
    ax_acc.plot(epochs, history["train_acc"], marker="o", label="train")
    ax_acc.plot(epochs, history["test_acc"], marker="o", label="test")
    ax_acc.set(title="accuracy", xlabel="epoch", ylabel="accuracy")
    ax_acc.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m autograd_gpu.demo", description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=("cnn", "mlp", "gpt", "lstm"), default="cnn")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=None, help="Adam's learning rate (default: 3e-3; 1e-2 for gpt and lstm)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="'cuda' or 'cpu' (default: cuda when available)")
    p.add_argument("--out", default="out", help="folder for the checkpoint and the curves (default: out/)")
    gpt = p.add_argument_group("--model gpt, --model lstm")
    gpt.add_argument("--steps", type=int, default=200, help="training steps (default: 200)")
    gpt.add_argument("--block-size", type=int, default=32, help="characters of context (default: 32)")
    gpt.add_argument("--sample-length", type=int, default=300, help="characters to generate (default: 300)")
    p.add_argument("--ddp", action="store_true", help="data-parallel, one rank per process (see main_ddp)")
    args = p.parse_args(argv)
    if args.lr is None:
        args.lr = 1e-2 if args.model in ("gpt", "lstm") else 3e-3
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.model in ("gpt", "lstm"):
        return main_text(args)
    if args.ddp:
        return main_ddp(args)
    try:
        import matplotlib  # noqa: F401
        import sklearn  # noqa: F401
        from tqdm import tqdm
    except ImportError as e:
        raise SystemExit(f"the demo needs scikit-learn, tqdm and matplotlib ({e}): "
                         "pip install 'autograd-gpu[demo]'") from None
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_data(device)
    if device.type == "cpu":
        # NOTE: this model's matrix products are tiny (at most 512x288 @ 288x64): waking BLAS worker threads
        # costs more than they save, and on a busy 2-core machine they made each step about 8x slower.
        torch.set_num_threads(1)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(args.seed))

    model = make_model(args.model).to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    print(f"training a {args.model} on {len(x_train)} digits ({len(x_test)} held out) on {device}")

    history = {"loss": [], "train_acc": [], "test_acc": []}
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        total_loss = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        seen = 0
        bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", leave=False)
        for step, (images, labels) in enumerate(bar, 1):
            optimizer.zero_grad()
            logits = model(images)
            loss = loss_fn(logits, labels)
            loss.backward()
            optimizer.step()
            # NOTE: the running sums stay on the device; reading them only every few steps keeps the GPU busy.
            total_loss += loss.detach() * len(labels)
            correct += (logits.argmax(dim=1) == labels).sum()
            seen += len(labels)
            if step % 10 == 0 or step == len(loader):
                bar.set_postfix(loss=f"{total_loss.item() / seen:.4f}", acc=f"{correct.item() / seen:.4f}")
        bar.close()
        history["loss"].append(total_loss.item() / seen)
        history["train_acc"].append(correct.item() / seen)
        history["test_acc"].append(evaluate(model, x_test, y_test))
        tqdm.write(f"epoch {epoch:2d}: loss {history['loss'][-1]:.4f}  train acc {history['train_acc'][-1]:.4f}"
                   f"  test acc {history['test_acc'][-1]:.4f}")
    elapsed = time.perf_counter() - start

    os.makedirs(args.out, exist_ok=True)
    checkpoint = os.path.join(args.out, CHECKPOINT)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": args.epochs,
                "model_kind": args.model}, checkpoint)
    save_curves(history, os.path.join(args.out, CURVES))
    print(f"trained in {elapsed:.1f} s; wrote {checkpoint} and {os.path.join(args.out, CURVES)}")
    print(f"test accuracy: {history['test_acc'][-1]:.4f}")


# ---- --model gpt, --model lstm: a character-level language model on a text that ships with the package ---
class GPT(nn.Module):
    """Token and position embeddings, pre-norm Transformer blocks with a causal mask, a LayerNorm and a linear
    head over the characters: logits (N, T, vocab_size) for (N, T) character indices."""

    def __init__(self, vocab_size, block_size=32, d_model=64, nhead=4, num_layers=2, dropout=0.0):
        super().__init__()
        self.block_size = block_size
        self.token = nn.Embedding(vocab_size, d_model)
        self.position = nn.Embedding(block_size, d_model)
        block = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model, dropout=dropout,
                                           activation=nn.GELU(approximate="tanh"), batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(block, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.token(idx) + self.position(torch.arange(t, device=idx.device))
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=idx.device, dtype=x.dtype)
        return self.head(self.norm(self.blocks(x, mask=mask, is_causal=True)))

    def next_logits(self, idx, state=None):
        """(logits (N, vocab_size) of the character after idx (N, T), None): the last block_size characters."""
        return self(idx[:, -self.block_size:])[:, -1], None


class CharLSTM(nn.Module):
    """A character embedding, a stacked LSTM and a linear head: logits (N, T, vocab_size) for (N, T) indices."""

    def __init__(self, vocab_size, embedding_dim=64, hidden_size=128, num_layers=2):
        super().__init__()
        self.token = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def run(self, idx, state=None):
        """(logits, (h, c)): the LSTM started from `state` (zeros when None)."""
        out, state = self.lstm(self.token(idx), state)
        return self.head(out), state

    def forward(self, idx):
        return self.run(idx)[0]

    def next_logits(self, idx, state=None):
        """(logits of the character after idx, the LSTM's state there): given the state after idx[:, :-1], only
        the last character is fed."""
        logits, state = self.run(idx if state is None else idx[:, -1:], state)
        return logits[:, -1], state


def load_text():
    """The demo's text: the opening of Coriolanus (Shakespeare, public domain; from the tinyshakespeare set)."""
    return resources.files("autograd_gpu").joinpath("data", TEXT).read_text(encoding="utf-8")


class CharCodec:
    """Characters <-> int64 indices, over the characters of a text (sorted)."""

    def __init__(self, chars):
        self.chars = "".join(sorted(set(chars)))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def encode(self, text, device=None):
        return torch.tensor([self.index[c] for c in text], dtype=torch.int64, device=device)

    def decode(self, indices):
        return "".join(self.chars[i] for i in indices.tolist())

    def as_tensor(self):
        """The characters as a tensor of code points, so the checkpoint holds them."""
        return torch.tensor([ord(c) for c in self.chars], dtype=torch.int64)

    @classmethod
    def from_tensor(cls, codes):
        return cls("".join(chr(c) for c in codes.tolist()))


def get_batch(data, batch_size, block_size, generator):
    """(inputs, targets): batch_size random windows of data and the same windows one character on."""
    starts = torch.randint(0, len(data) - block_size - 1, (batch_size,), generator=generator).to(data.device)
    idx = starts[:, None] + torch.arange(block_size, device=data.device)
    return data[idx], data[idx + 1]


@torch.no_grad()
def generate(model, context, length, temperature=0.8, top_k=10, generator=None):
    """context (N, T) indices followed by `length` more, each drawn from the softmax over the top_k logits."""
    model.eval()
    out, state = context, None
    for _ in range(length):
        logits, state = model.next_logits(out, state)
        logits = logits / temperature
        if top_k is not None:
            kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        out = torch.cat([out, torch.multinomial(probs, 1, generator=generator)], dim=1)
    return out


def char_loss(model, x, y):
    """The mean cross-entropy of the model's next-character logits for x against y."""
    return nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())


def train_step(model, optimizer, x, y):
    """One Adam step on the batch; its loss, detached (on the device)."""
    model.train()
    loss = char_loss(model, x, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.detach()


@torch.no_grad()
def estimate_loss(model, data, batch_size, block_size, generator, batches=4):
    model.eval()
    total = torch.zeros((), device=data.device)
    for _ in range(batches):
        total += char_loss(model, *get_batch(data, batch_size, block_size, generator))
    return total.item() / batches


def save_loss_curve(history, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(history["step"], history["train_loss"], marker="o", label="train (mean since the last point)")
    ax.plot(history["step"], history["val_loss"], marker="o", label="validation")
    ax.set(title=title, xlabel="step", ylabel="cross-entropy (nats per character)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main_text(args):
    try:
        import matplotlib  # noqa: F401
        from tqdm import tqdm
    except ImportError as e:
        raise SystemExit(f"the demo needs tqdm and matplotlib ({e}): pip install 'autograd-gpu[demo]'") from None
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(args.seed)
    if device.type == "cpu":
        torch.set_num_threads(1)  # small products, as for the CNN (see main)
    text = load_text()
    codec = CharCodec(text)
    data = codec.encode(text, device=device)
    split = int(0.9 * len(data))
    train_data, val_data = data[:split], data[split:]
    generator = torch.Generator().manual_seed(args.seed)

    name = args.model.upper()
    model = (GPT(len(codec.chars), block_size=args.block_size) if args.model == "gpt" else
             CharLSTM(len(codec.chars))).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"training a {n_params:,}-parameter {name} on {len(text):,} characters of Shakespeare "
          f"({len(codec.chars)} distinct) on {device}")

    history = {"step": [], "train_loss": [], "val_loss": []}
    interval = max(1, args.steps // 10)
    running, seen = torch.zeros((), device=device), 0
    start = time.perf_counter()
    bar = tqdm(range(1, args.steps + 1), desc="training", leave=False)
    for step in bar:
        running += train_step(model, optimizer, *get_batch(train_data, args.batch_size, args.block_size, generator))
        seen += 1
        if step % interval == 0 or step == args.steps:
            history["step"].append(step)
            history["train_loss"].append(running.item() / seen)
            history["val_loss"].append(estimate_loss(model, val_data, args.batch_size, args.block_size, generator))
            running, seen = torch.zeros((), device=device), 0
            bar.set_postfix(loss=f"{history['train_loss'][-1]:.3f}", val=f"{history['val_loss'][-1]:.3f}")
            tqdm.write(f"step {step:4d}: train loss {history['train_loss'][-1]:.4f}  "
                       f"validation loss {history['val_loss'][-1]:.4f}")
    bar.close()
    elapsed = time.perf_counter() - start

    os.makedirs(args.out, exist_ok=True)
    checkpoint = os.path.join(args.out, CHECKPOINT)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": args.steps,
                "model_kind": args.model, "block_size": args.block_size, "chars": codec.as_tensor()}, checkpoint)
    save_loss_curve(history, os.path.join(args.out, CURVES), f"character-level {name}")
    print(f"trained in {elapsed:.1f} s; wrote {checkpoint} and {os.path.join(args.out, CURVES)}")
    print(f"validation loss: {history['val_loss'][-1]:.4f} ({history['val_loss'][-1] / math.log(2):.2f} bits per "
          "character)")
    context = codec.encode("\n", device=device)[None]
    sample = generate(model, context, args.sample_length,
                      generator=torch.Generator(device=device).manual_seed(args.seed))
    print("sample:")
    print(codec.decode(sample[0]))


def main_ddp(args):
    """The demo, data-parallel: `python -m autograd_gpu.distributed.run --nproc-per-node 2 -m autograd_gpu.demo
    --ddp`. Each rank trains on its DistributedSampler shard (--batch-size rows per rank and step) of a
    DistributedDataParallel model: NCCL, one GPU per rank (LOCAL_RANK), when there are GPUs, else MPI on CPU
    ranks. Rank 0 prints the step time, writes the checkpoint and prints the test accuracy last."""
    cuda = torch.cuda.is_available() and args.device != "cpu"
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if cuda else "mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    torch.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_data(device)
    if not cuda:
        torch.set_num_threads(1)  # (as main: the ranks share the cores)
    train = TensorDataset(x_train, y_train)
    sampler = DistributedSampler(train, seed=args.seed)
    loader = DataLoader(train, batch_size=args.batch_size, sampler=sampler)
    model = nn.parallel.DistributedDataParallel(make_model(args.model).to(device),
                                                device_ids=[local_rank] if cuda else None)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    if rank == 0:
        print(f"training a {args.model} on {len(x_train)} digits, {world} ranks ({dist.get_backend()}) on "
              f"{device.type}, {args.batch_size} per rank and step")
    steps, start = 0, None
    for epoch in range(1, args.epochs + 1):
        model.train()
        sampler.set_epoch(epoch)
        total = torch.zeros(2, device=device)  # loss sum, samples
        for images, labels in loader:
            if start is None and epoch == 1 and steps == 1:
                start = time.perf_counter()  # (the first step, with its one-off costs, is not timed)
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            total += torch.stack([loss.detach() * len(labels), torch.tensor(float(len(labels)), device=device)])
            steps += 1
        dist.all_reduce(total)
        if rank == 0:
            print(f"epoch {epoch:2d}: loss {(total[0] / total[1]).item():.4f}")
    if cuda:
        torch.cuda.synchronize()
    step_ms = 1000 * (time.perf_counter() - start) / max(1, steps - 1)
    if rank == 0:
        print(f"step time: {step_ms:.2f} ms per step at {world} rank{'s' if world > 1 else ''} ({steps} steps)")
        os.makedirs(args.out, exist_ok=True)
        torch.save({"model": model.module.state_dict(), "epoch": args.epochs, "model_kind": args.model},
                   os.path.join(args.out, CHECKPOINT))
        print(f"test accuracy: {evaluate(model.module, x_test, y_test):.4f}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
