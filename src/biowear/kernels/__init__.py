"""Kernel infrastructure shared by every layer: the ``@kernel`` operation-count profiler and Qm.n fixed point.

This is a base package: it imports nothing of biowear except :mod:`biowear.errors`, :mod:`biowear.registry`
and :mod:`biowear.paths`, so :mod:`biowear.signal`, the BiomedBench classifiers and the applications can all
build on it without pulling in :mod:`biowear.bench`.
"""
