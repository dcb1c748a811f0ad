"""Independent re-implementations of official code (the oracles), shared by tests and benchmarks.

``wct2_official``   clovaai/WCT2's transfer loop, layers and WCT step, operation for operation.
``gatys_tutorial``  the PyTorch neural-style tutorial's losses, model surgery and L-BFGS loop.
"""
