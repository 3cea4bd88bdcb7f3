"""PyTorch peer for bench/distill.mjs: the distillation step as a PyTorch user writes it, on one CPU
thread: log_softmax of both models at temperature T, F.kl_div(batchmean, log_target) times T^2, and its
backward to the student's logits. Prints one JSON object {"fwd_bwd_ms": median, "loss": value}.

    /usr/bin/python3 bench/torch_distill.py N C T student.f32 teacher.f32
"""
import json
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
N, C, T = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = torch.from_numpy(np.fromfile(sys.argv[4], dtype="<f4").reshape(N, C))
t = torch.from_numpy(np.fromfile(sys.argv[5], dtype="<f4").reshape(N, C))


def step():
    x = s.detach().requires_grad_()
    loss = F.kl_div(F.log_softmax(x / T, -1), F.log_softmax(t / T, -1), reduction="batchmean", log_target=True) * T * T
    loss.backward()
    return loss.item()


loss = step()
times = []
start = time.perf_counter()
while len(times) < 5 or time.perf_counter() - start < 3:
    t0 = time.perf_counter()
    step()
    times.append((time.perf_counter() - t0) * 1e3)
print(json.dumps({"fwd_bwd_ms": statistics.median(times), "loss": loss}))
