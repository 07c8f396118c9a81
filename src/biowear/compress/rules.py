"""The value rules every compression setting shares, so an interval is written once (see :mod:`biowear.validate`).

* A pruning target (unstructured sparsity, structured channel ratio) lies in (0, 1): 0 prunes nothing and 1
  removes everything, neither is a pruning.
* A point of the compression *space* may have sparsity 0, meaning "not pruned": [0, 1).
* k-means bits are integers 1..8 (2**q shared values per layer).
"""

from __future__ import annotations

from biowear.validate import Interval

#: Fraction of weights (or channels) a pruning removes.
SPARSITY = Interval(float, 0.0, 1.0, closed="neither")
#: Sparsity of a compression-space point; 0 means not pruned.
SPACE_SPARSITY = Interval(float, 0.0, 1.0, closed="left")
#: k-means bits per weight code.
BITS = Interval(int, 1, 8)
#: Epoch counts (0 = none).
EPOCHS = Interval(int, 0, None)
#: Stages of an iterative or multistage schedule.
STEPS = Interval(int, 1, None)
