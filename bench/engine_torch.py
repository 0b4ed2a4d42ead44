"""The PyTorch side of bench/engine.ts: the same training steps on PyTorch CPU.

    /usr/bin/python3 bench/engine_torch.py THREADS

Speaks engine-peer.ts's protocol: one JSON request a line on stdin, {"task": name, "ms": budget}; runs
training steps (Adam, lr 1e-3, loss.item() each step) until budget ms have passed (at least 3 steps) and
answers {"ms": [per-step ms...], "cpuMs": CPU ms per step, all threads} or {"error": text}. Models are built once,
with 3 warm-up steps. Its first line says what runs: torch version, threads, and the BLAS library this process
has loaded ({"blas": "openblas" | "mkl" | "blis" | "atlas" | "reference" | "unknown", "path": ...}). The shapes
mirror engine-peer.ts and src/bench/tasks/{fashion,charLstm}.ts (NCHW here, NHWC there: the same convolutions).
"""
import json
import sys
import time

import torch
from torch import nn

torch.set_num_threads(int(sys.argv[1]))


def blas_loaded():
    """Which BLAS this process has loaded, from the shared objects mapped in /proc/self/maps.

    Debian's python3-torch links the generic libblas.so.3, which the alternatives system points at
    OpenBLAS, BLIS, MKL or the reference BLAS (netlib's plain Fortran loops, ~10x slower on these shapes).
    Returns {"blas": kind, "path": file}: kind is "openblas", "mkl", "blis", "atlas", "reference" or
    "unknown" (no BLAS mapped, or /proc unreadable).
    """
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "/" in line})
    except OSError:
        return {"blas": "unknown", "path": None}
    for kind, marks in (("mkl", ("libmkl",)), ("openblas", ("openblas",)), ("blis", ("blis",)),
                        ("atlas", ("atlas",))):
        for path in paths:
            if any(m in path.lower() for m in marks):
                return {"blas": kind, "path": path}
    for path in paths:
        name = path.rsplit("/", 1)[-1]
        if name.startswith("libblas.so"):
            # Debian's reference BLAS lives in .../blas/libblas.so.3 (the others in their own folders).
            return {"blas": "reference" if "/blas/" in path else "unknown", "path": path}
    return {"blas": "unknown", "path": None}
torch.manual_seed(1)


class LastStep(nn.Module):
    """LSTM over the window, then the last step's output (Keras' LSTM with return_sequences false)."""

    def __init__(self, inp, units):
        super().__init__()
        self.lstm = nn.LSTM(inp, units, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[0][:, -1, :]


def mlp(sizes, batch):
    layers = []
    for i in range(1, len(sizes)):
        layers.append(nn.Linear(sizes[i - 1], sizes[i]))
        if i < len(sizes) - 1:
            layers.append(nn.ReLU())
    x = torch.rand(batch, sizes[0])
    y = torch.arange(batch) * 7 % sizes[-1]
    return nn.Sequential(*layers), x, y


def fashion_cnn():
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 10),
    )
    return model, torch.rand(64, 1, 28, 28), torch.arange(64) % 10


def char_lstm():
    model = nn.Sequential(nn.Embedding(96, 16), LastStep(16, 64), nn.Linear(64, 96))
    return model, torch.randint(0, 96, (64, 32)), torch.randint(0, 96, (64,))


class Block(nn.Module):
    """Pre-norm GPT block as src/bench/tasks/transformerModel.ts: x + attn(ln1(x)), then x + mlp(ln2(x))."""

    def __init__(self, width, heads, context):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(width, eps=1e-5), nn.LayerNorm(width, eps=1e-5)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.fc, self.out = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)
        self.register_buffer("mask", torch.full((context, context), float("-inf")).triu(1))

    def forward(self, x):
        b, t, w = x.shape
        qkv = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = (q @ k.transpose(-2, -1)) / (w // self.heads) ** 0.5 + self.mask[:t, :t]
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, w)
        x = x + self.proj(y)
        return x + self.out(nn.functional.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class CharTransformer(nn.Module):
    def __init__(self, vocab=96, context=64, width=64, heads=4, blocks=2):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, width), nn.Parameter(torch.zeros(context, width))
        self.blocks = nn.Sequential(*[Block(width, heads, context) for _ in range(blocks)])
        self.lnf, self.head = nn.LayerNorm(width, eps=1e-5), nn.Linear(width, vocab)

    def forward(self, x):
        h = self.blocks(self.tok(x) + self.pos[: x.shape[1]])
        # Every position predicts its next token: [B, T, V] -> [B*T, V] for the cross-entropy.
        return self.head(self.lnf(h)).reshape(-1, self.head.out_features)


def char_transformer():
    ids = torch.randint(0, 96, (32, 65))
    return CharTransformer(), ids[:, :64], ids[:, 1:].reshape(-1)


BUILDERS = {
    "mlp-784-128-10": lambda: mlp([784, 128, 10], 64),
    "mlp-784-128-128-10": lambda: mlp([784, 128, 128, 10], 128),
    # The same step: PyTorch's models always output logits for cross_entropy.
    "mlp-784-128-128-10-logits": lambda: mlp([784, 128, 128, 10], 128),
    "fashion-cnn": fashion_cnn,
    "char-lstm": char_lstm,
    "transformer": char_transformer,
}

trainers = {}


def step(t):
    model, x, y, opt = t
    opt.zero_grad(set_to_none=True)
    # Softmax + cross-entropy, as the TF.js models' softmax output and crossEntropy.
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


def run(name, budget_ms):
    if name not in trainers:
        build = BUILDERS.get(name)
        if build is None:
            return {"error": "not built yet"}
        model, x, y = build()
        trainers[name] = (model, x, y, torch.optim.Adam(model.parameters(), lr=1e-3))
        for _ in range(3):
            step(trainers[name])
    ms = []
    t0 = time.perf_counter()
    cpu0 = time.process_time()  # this process, all its threads
    while len(ms) < 3 or (time.perf_counter() - t0) * 1000 < budget_ms:
        s = time.perf_counter()
        step(trainers[name])
        ms.append((time.perf_counter() - s) * 1000)
    return {"ms": ms, "cpuMs": (time.process_time() - cpu0) * 1000 / len(ms)}


# A tiny product first, so that a lazily loaded BLAS is mapped before it is looked for.
torch.ones(8, 8) @ torch.ones(8, 8)
print(json.dumps({"ready": {"torch": torch.__version__, "threads": torch.get_num_threads(), **blas_loaded()}}),
      flush=True)
for line in sys.stdin:
    if line.strip():
        req = json.loads(line)
        print(json.dumps(run(req["task"], req["ms"])), flush=True)
