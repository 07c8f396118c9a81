"""Deployment: a trained network as int8 C for a Cortex-M and as ONNX (fp32 and int8 QDQ)."""
