"""Text to vectors: the Embedder protocol and its torch, ONNX, NumPy and Ray backends."""
