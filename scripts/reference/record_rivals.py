#!/usr/bin/python3
"""Records reference trajectories of ScheduleFree+ and Prodigy + Schedule-Free for lrfree's tests.

Needs Debian's PyTorch (apt package python3-torch; run with /usr/bin/python3) and numpy, and the two
reference repositories checked out (plain working trees, e.g. `git archive` of the commits named below):

    /usr/bin/python3 scripts/reference/record_rivals.py SCHEDULE_FREE_DIR PRODIGY_PLUS_SF_DIR OUT_DIR

  SCHEDULE_FREE_DIR    facebookresearch/schedule_free at 70785b5
                       (uses schedulefree/adamc_schedulefree_plus_paper.py, AdamCScheduleFreePlusPaper)
  PRODIGY_PLUS_SF_DIR  LoganBooker/prodigy-plus-schedule-free at 338cf40 (v2.0.1)
                       (uses prodigyplus/prodigy_plus_schedulefree.py, ProdigyPlusScheduleFree)
  OUT_DIR              where schedulefree_plus.json and prodigy_plus_sf.json are written
                       (lrfree keeps them in test/fixtures/rivals/)

This file is lrfree's own code; it imports the reference optimizers from the given directories and
writes numbers only. The problem: a 4-32-3 tanh MLP, softmax cross-entropy (mean) on 64 fixed points
labelled by a linear teacher (separable, so the Polyak target f* = 0 is reachable), full batch, float64
parameters (Prodigy + SF then keeps p0 and s in float64 instead of bfloat16; its y/z update is float32 in
any case). Weights are in PyTorch layout: W1 [32, 4], b1 [32], W2 [3, 32], b2 [3].
"""
import importlib.util
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

# Entries recorded at every step (flat index into each tensor, PyTorch layout).
PICK = {"W1": [0, 9, 70, 127], "b1": [3, 31], "W2": [7, 40, 95], "b2": [0, 2]}
NAMES = ["W1", "b1", "W2", "b2"]


def problem():
    rs = np.random.RandomState(20260518)
    X = rs.uniform(-1, 1, size=(64, 4))
    teacher = rs.uniform(-1, 1, size=(4, 3))
    labels = np.argmax(X @ teacher, axis=1)
    init = {
        "W1": rs.uniform(-0.5, 0.5, size=(32, 4)),
        "b1": rs.uniform(-0.1, 0.1, size=(32,)),
        "W2": rs.uniform(-0.3, 0.3, size=(3, 32)),
        "b2": np.zeros(3),  # all-zero tensor: Prodigy + SF stores p0 as a scalar 0 for it
    }
    return X, labels, init


def model_params(init):
    return [torch.tensor(init[n], dtype=torch.float64, requires_grad=True) for n in NAMES]


def loss_of(params, X, labels):
    W1, b1, W2, b2 = params
    h = torch.tanh(X @ W1.t() + b1)
    return F.cross_entropy(h @ W2.t() + b2, labels)


def picks(params):
    out = []
    for n, p in zip(NAMES, params):
        flat = p.detach().reshape(-1)
        out += [float(flat[i]) for i in PICK[n]]
    return out


def full(params):
    return {n: p.detach().reshape(-1).tolist() for n, p in zip(NAMES, params)}


def load_class(path, module, cls):
    spec = importlib.util.spec_from_file_location(module, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, cls)


def run_sfplus(cls, options, steps, X, labels, init):
    params = model_params(init)
    opt = cls(params, **options)
    opt.train()
    rows = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_of(params, X, labels)
        loss.backward()
        f = float(loss)
        opt.step_func(f)
        g = opt.param_groups[0]
        rows.append({
            "loss": f,
            "gamma": g["scheduled_lr"],
            "ip": g["ip_term"],
            "l1": g["grad_l1_ema"],
            "lrMax": g["lr_max"],
            "weightSum": g["weight_sum"],
            "w": picks(params),
        })
    y = full(params)
    z = {n: opt.state[p]["z"].reshape(-1).tolist() for n, p in zip(NAMES, params)}
    opt.eval()
    x = full(params)
    with torch.no_grad():
        loss_x = float(loss_of(params, X, labels))
    return {"steps": rows, "final": {"y": y, "x": x, "z": z, "lossAtX": loss_x}}


def run_ppsf(cls, options, steps, X, labels, init):
    params = model_params(init)
    opt = cls(params, **options)
    opt.train()
    rows = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_of(params, X, labels)
        loss.backward()
        g = opt.param_groups[0]
        d_used = g["d"]
        opt.step()
        rows.append({
            "loss": float(loss),
            "dUsed": d_used,
            "d": g["d"],
            "dNumerator": g["d_numerator"],
            "dDenom": g["d_denom"],
            "weightSum": g["weight_sum"],
            "w": picks(params),
        })
    y = full(params)
    z = {n: opt.state[p]["z"].reshape(-1).tolist() for n, p in zip(NAMES, params)}
    opt.eval()
    x = full(params)
    with torch.no_grad():
        loss_x = float(loss_of(params, X, labels))
    return {"steps": rows, "final": {"y": y, "x": x, "z": z, "lossAtX": loss_x}}


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sf_dir, ppsf_dir, out_dir = sys.argv[1:]
    torch.set_num_threads(1)
    X_np, labels_np, init = problem()
    X = torch.tensor(X_np, dtype=torch.float64)
    labels = torch.tensor(labels_np, dtype=torch.long)
    prob = {
        "X": X_np.reshape(-1).tolist(),
        "labels": labels_np.tolist(),
        "init": {n: np.asarray(init[n]).reshape(-1).tolist() for n in NAMES},
        "pick": PICK,
    }

    sfp = load_class(
        os.path.join(sf_dir, "schedulefree", "adamc_schedulefree_plus_paper.py"),
        "sfplus_ref",
        "AdamCScheduleFreePlusPaper",
    )
    sf_runs = [
        ("defaults", {}, {}, 60),
        (
            "allknobs",
            {"lr": 0.5, "betas": (0.8, 0.9), "sf_beta1": 0.85, "weight_decay": 0.1, "r": 1.0,
             "polyak_beta": 0.5, "c_warmup": 3, "sf_beta1_anneal_steps": 20, "sf_beta1_max": 0.97,
             "weight_lr_power": 1.5, "eps": 1e-6},
            {"lr": 0.5, "betas": [0.8, 0.9], "sfBeta1": 0.85, "weightDecay": 0.1, "r": 1,
             "polyakBeta": 0.5, "cWarmup": 3, "sfBeta1AnnealSteps": 20, "sfBeta1Max": 0.97,
             "weightLrPower": 1.5, "eps": 1e-6},
            60,
        ),
    ]
    out = {"problem": prob, "runs": []}
    for name, py_opts, ts_opts, steps in sf_runs:
        r = run_sfplus(sfp, py_opts, steps, X, labels, init)
        out["runs"].append({"name": name, "options": ts_opts, **r})
    with open(os.path.join(out_dir, "schedulefree_plus.json"), "w") as fh:
        json.dump(out, fh)

    sys.path.insert(0, ppsf_dir)
    from prodigyplus.prodigy_plus_schedulefree import ProdigyPlusScheduleFree

    pp_runs = [
        ("defaults", {}, {}, 100),
        (
            "nolimiter",
            {"d_limiter": False, "weight_decay": 0.05, "d0": 1e-4, "schedulefree_c": 8, "betas": (0.9, 0.95)},
            {"dLimiter": False, "weightDecay": 0.05, "d0": 1e-4, "schedulefreeC": 8, "betas": [0.9, 0.95]},
            60,
        ),
        (
            "atan2",
            {"eps": None, "d0": 1e-3, "factored": False, "weight_decay": 0.01, "weight_decay_by_lr": False},
            {"eps": None, "d0": 1e-3, "factored": False, "weightDecay": 0.01, "weightDecayByLr": False},
            60,
        ),
    ]
    out = {"problem": prob, "runs": []}
    for name, py_opts, ts_opts, steps in pp_runs:
        r = run_ppsf(ProdigyPlusScheduleFree, py_opts, steps, X, labels, init)
        out["runs"].append({"name": name, "options": ts_opts, **r})
    with open(os.path.join(out_dir, "prodigy_plus_sf.json"), "w") as fh:
        json.dump(out, fh)
    print("wrote", out_dir, file=sys.stderr)


if __name__ == "__main__":
    main()
