"""BiomedBench in Python: eight wearable applications as profiled pipelines of shared kernels."""
