"""Texts in, outputs out: the Predictor protocol, the torch and onnxruntime runtimes, workers."""
