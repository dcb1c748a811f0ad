"""Notebook 01: reference solutions, wrong answers, library oracles."""

from stylelab.features import losses, stats


def gram(features):
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)
    return f @ f.transpose(1, 2) / (h * w)


def gram_wrong(features):
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)
    return f.transpose(1, 2) @ f / (h * w)  # positions × positions: a "Gram" of the pixels, not the channels


def layer_loss(features, style_features):
    _, c, h, w = features.shape
    m = h * w
    f = features.reshape(-1, c, m)
    s = style_features.reshape(-1, c, m)
    g = f @ f.transpose(1, 2)
    a = s @ s.transpose(1, 2)
    return ((g - a) ** 2).sum() / (4 * c**2 * m**2)


def layer_loss_wrong(features, style_features):
    _, c, h, w = features.shape
    f = features.reshape(-1, c, h * w)
    s = style_features.reshape(-1, c, h * w)
    return ((f @ f.transpose(1, 2) - s @ s.transpose(1, 2)) ** 2).mean()  # mean over C² only: misses 1/(4M²)


def mmd_linear(x, y):
    m, n = x.shape[1], y.shape[1]
    kxx = (x.T @ x).sum() / m**2
    kyy = (y.T @ y).sum() / n**2
    kxy = (x.T @ y).sum() / (m * n)
    return kxx + kyy - 2 * kxy


def mmd_linear_wrong(x, y):
    m, n = x.shape[1], y.shape[1]
    return (x.T @ x).sum() / m**2 + (y.T @ y).sum() / n**2 - (x.T @ y).sum() / (m * n)  # cross term once, not twice


SOLUTIONS = {"01.gram": gram, "01.style_layer_loss": layer_loss, "01.mmd_linear": mmd_linear}
WRONG = {"01.gram": gram_wrong, "01.style_layer_loss": layer_loss_wrong, "01.mmd_linear": mmd_linear_wrong}
ORACLES = {
    "01.gram": lambda f: stats.gram(f, normalize="positions"),
    "01.style_layer_loss": lambda f, s: losses.gram_loss(f, losses.gram_target(s, "paper"), "paper"),
    "01.mmd_linear": lambda x, y: stats.mmd2(x, y, kernel="linear"),
}
