"""Notebook 00: reference solutions."""

import torch


def mean_colour(image):
    return image.mean(dim=(2, 3))


def mean_colour_wrong(image):
    return image.mean(dim=(1, 2, 3))  # averages over colours too


def luminance(image):
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=image.dtype).view(1, 3, 1, 1)
    return (image * weights).sum(dim=1, keepdim=True)


def luminance_wrong(image):
    return image.mean(dim=1, keepdim=True)  # equal weights are not luminance


def contrast(image):
    y = luminance(image).flatten(1)
    return ((y - y.mean(1, keepdim=True)) ** 2).mean(1).sqrt()


def contrast_wrong(image):
    return image.flatten(1).std(1)  # std of all channels (not the luminance), and N − 1


SOLUTIONS = {"00.mean_colour": mean_colour, "00.luminance": luminance, "00.contrast": contrast}
WRONG = {"00.mean_colour": mean_colour_wrong, "00.luminance": luminance_wrong, "00.contrast": contrast_wrong}
