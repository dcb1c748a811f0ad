"""viz helpers."""

import torch


def test_assert_not_flat_rejects_flat_images():
    import pytest

    from stylelab import viz

    ramp = torch.linspace(0, 1, 16).view(1, 1, 1, 16).expand(1, 3, 8, 16)
    assert viz.assert_not_flat([ramp]) > 0.2
    with pytest.raises(AssertionError, match="flat"):
        viz.assert_not_flat([ramp, torch.zeros(1, 3, 8, 8)])
    one_channel_dead = ramp.clone()
    one_channel_dead[:, 0] = 0.5
    with pytest.raises(AssertionError, match="flat"):
        viz.assert_not_flat(one_channel_dead)
