"""Deployment: a trained network as int8 C for a Cortex-M (bit-exact with a numpy reference) and as ONNX.

The pipeline: :func:`~biowear.export.graph.lower` turns a float PyTorch network into a small graph of
deployable operations (batch norm folded, ReLU fused); :func:`~biowear.export.quantize.quantize_graph`
calibrates it and fixes every integer (CMSIS-NN conventions: int8 activations with a zero point, symmetric
per-channel int8 weights, int32 biases, multiplier + shift requantisation with round-half-up, an LSTM with
int16 gates and cell state and lookup-table sigmoid/tanh); :mod:`~biowear.export.reference` runs that integer
arithmetic in numpy, and :mod:`~biowear.export.cgen` writes C99 that computes the same integers.
"""
