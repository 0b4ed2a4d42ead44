"""The PyTorch side of bench/engine.ts: the same training steps on PyTorch CPU.

    /usr/bin/python3 bench/engine_torch.py THREADS

Speaks engine-peer.ts's protocol: one JSON request a line on stdin, {"task": name, "ms": budget}; runs
training steps (Adam, lr 1e-3, loss.item() each step) until budget ms have passed (at least 3 steps) and
answers {"ms": [per-step ms...], "cpuMs": CPU ms per step, all threads} or {"error": text}. Models are built once, with 3 warm-up steps. The shapes
mirror engine-peer.ts and src/bench/tasks/{fashion,charLstm}.ts (NCHW here, NHWC there: the same convolutions).
"""
import json
import sys
import time

import torch
from torch import nn

torch.set_num_threads(int(sys.argv[1]))
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


# The transformer row: mirror src/bench/tasks/transformer.ts here once it exists (see engine-tasks.ts).
BUILDERS = {
    "mlp-784-128-10": lambda: mlp([784, 128, 10], 64),
    "mlp-784-128-128-10": lambda: mlp([784, 128, 128, 10], 128),
    "fashion-cnn": fashion_cnn,
    "char-lstm": char_lstm,
    "transformer": None,
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


print(json.dumps({"ready": {"torch": torch.__version__, "threads": torch.get_num_threads()}}), flush=True)
for line in sys.stdin:
    if line.strip():
        req = json.loads(line)
        print(json.dumps(run(req["task"], req["ms"])), flush=True)
