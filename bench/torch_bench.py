"""PyTorch peer for the xent bench: times F.cross_entropy (forward, forward+backward), torch.logsumexp
and F.log_softmax on one CPU thread and prints one JSON object on stdout.

    /usr/bin/python3 bench/torch_bench.py N C [logits.f32 targets.i32]

bench/index.mjs runs it once per shape with the very logits and targets it gave xent and tfjs (raw
little-endian float32 / int32 files), so that the losses can be cross-checked. Without files it
draws its own: logits uniform in [-3, 3), uniform targets, seeded. Exits with status 3 if torch is
missing. The timing mirrors tinybench: a warmup, then samples until both a time budget and a
minimum count are reached; medians are reported.
"""
import json
import math
import os
import statistics
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print(json.dumps({"error": str(e)}))
    sys.exit(3)

# bench/index.mjs's BENCH_OPTIONS (it passes its time per round as XENT_TORCH_TIME, in seconds)
TIME_S, MIN_ITERS, WARMUP_S, WARMUP_ITERS = float(os.environ.get("XENT_TORCH_TIME", "2.0")), 3, 0.2, 2


def t_critical(df):
    """Two-sided 95% Student t, as tinybench uses for its margin of error."""
    table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
             2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086]
    return table[df - 1] if df <= len(table) else 1.96 + 2.5 / df


def measure(fn):
    def loop(seconds, iters, samples):
        start = time.perf_counter()
        while len(samples) < iters or time.perf_counter() - start < seconds:
            t0 = time.perf_counter_ns()
            fn()
            samples.append((time.perf_counter_ns() - t0) / 1e6)
        return samples

    loop(WARMUP_S, WARMUP_ITERS, [])
    s = loop(TIME_S, MIN_ITERS, [])
    mean = statistics.fmean(s)
    rme = t_critical(len(s) - 1) * statistics.stdev(s) / math.sqrt(len(s)) / mean * 100
    return {"p50": statistics.median(s), "mean": mean, "rme": rme, "samples": len(s)}


def main():
    n, c = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(1)
    if len(sys.argv) > 4:
        x = torch.from_numpy(np.fromfile(sys.argv[3], dtype="<f4").reshape(n, c))
        t = torch.from_numpy(np.fromfile(sys.argv[4], dtype="<i4").astype(np.int64))
    else:
        g = torch.Generator().manual_seed(1234)
        x = torch.rand(n, c, generator=g) * 6 - 3
        t = torch.randint(0, c, (n,), generator=g)
    xg = x.clone().requires_grad_(True)

    def forward():
        with torch.inference_mode():
            return F.cross_entropy(x, t).item()

    def with_grad():
        xg.grad = None  # what zero_grad(set_to_none=True) does: backward writes a fresh gradient
        loss = F.cross_entropy(xg, t)
        loss.backward()
        return loss.item(), xg.grad

    def logsumexp():
        with torch.inference_mode():
            return torch.logsumexp(x, -1)

    def log_softmax():
        with torch.inference_mode():
            return F.log_softmax(x, -1)

    # One checked evaluation per op, fingerprinted as bench/index.mjs does (a loss's value, an
    # array's sum of |values|), so that the Node side can tell whether torch computed what xent does.
    loss, grad = with_grad()

    def sum_abs(a):
        return a.abs().sum(dtype=torch.float64).item()

    checks = {
        "crossEntropy": {"value": forward()},
        "crossEntropyWithGrad": {"value": loss, "sumAbs": sum_abs(grad)},
        "logSumExp": {"sumAbs": sum_abs(logsumexp())},
        "logSoftmax": {"sumAbs": sum_abs(log_softmax())},
    }
    ops = {"crossEntropy": forward, "crossEntropyWithGrad": with_grad, "logSumExp": logsumexp,
           "logSoftmax": log_softmax}
    results = [{"op": op, "N": n, "C": c, "check": checks[op], **measure(fn)} for op, fn in ops.items()]
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()
