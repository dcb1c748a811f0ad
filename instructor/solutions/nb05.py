"""Notebook 05: reference solutions, wrong answers, library oracles."""

import numpy as np
import torch
import torch.nn.functional as F


def max_unpool(pooled, indices, size):
    b, c, h, w = pooled.shape
    out = torch.zeros(b, c, size[0] * size[1], dtype=pooled.dtype)
    out.scatter_(2, indices.flatten(2), pooled.flatten(2))
    return out.view(b, c, size[0], size[1])


def max_unpool_wrong(pooled, indices, size):
    return F.interpolate(pooled, size=size, mode="nearest")  # copies the value into all four places


def smooth(W, y, beta):
    d = W.sum(axis=1)
    S = W / np.sqrt(np.outer(d, d))
    return (1 - beta) * np.linalg.solve(np.eye(len(d)) - beta * S, y)


def smooth_wrong(W, y, beta):
    d = W.sum(axis=1)
    S = W / d[:, None]  # random-walk normalisation D⁻¹W instead of D^-1/2 W D^-1/2
    return (1 - beta) * np.linalg.solve(np.eye(len(d)) - beta * S, y)


def upsample_nearest(x):
    return x.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)


def upsample_nearest_wrong(x):
    return x.repeat(1, 1, 2, 2)  # tiles the whole map 2×2 instead of repeating each value


SOLUTIONS = {"05.max_unpool": max_unpool, "05.smooth": smooth, "05.upsample_nearest": upsample_nearest}
WRONG = {"05.max_unpool": max_unpool_wrong, "05.smooth": smooth_wrong, "05.upsample_nearest": upsample_nearest_wrong}
ORACLES = {"05.max_unpool": lambda p, i, s: F.max_unpool2d(p, i, 2, 2, output_size=s)}
