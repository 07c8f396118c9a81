"""Deployable outputs of a biowear model: int8 C code, its host and Cortex-M builds."""
