"""The reversible network: its inverse is exact to rounding, and bad shapes say what to do."""

import pytest
import torch

from stylelab.nets.reversible import Coupling, ReversibleNet


def test_inverse_is_exact_to_rounding():
    torch.manual_seed(0)
    net = ReversibleNet(channels=8, squeezes=2, blocks=2, hidden=16)
    x = torch.rand(2, 3, 16, 24, dtype=torch.float64)
    feats = net.double()(x)
    assert feats.shape == (2, 8 * 16, 4, 6)
    assert (net.inverse(feats) - x).abs().max() < 1e-12
    net = net.float()
    assert (net.inverse(net(x.float())) - x.float()).abs().max() < 1e-5
    # the network is not the identity: the features are not a mere rearrangement of the pixels
    plain = torch.nn.functional.pixel_unshuffle(torch.nn.functional.pixel_unshuffle(
        torch.nn.functional.pad(x.float(), (0, 0, 0, 0, 0, 5)), 2), 2)
    assert (net(x.float()) - plain).abs().max() > 1e-2


def test_a_coupling_block_inverts_any_input():
    torch.manual_seed(1)
    b = Coupling(6, hidden=8).double()
    y = torch.randn(3, 6, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(b(b.inverse(y)), y, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="odd"):
        Coupling(5)


def test_bad_shapes_are_refused():
    net = ReversibleNet(squeezes=2)
    with pytest.raises(ValueError, match="multiples of 4"):
        net(torch.rand(1, 3, 10, 12))
    with pytest.raises(ValueError, match="3 channels"):
        net(torch.rand(1, 4, 8, 8))
    with pytest.raises(ValueError, match="from forward"):
        net.inverse(torch.rand(1, 7, 2, 2))
