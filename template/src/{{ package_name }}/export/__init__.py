"""Model export: ONNX with a blocking parity gate, guarded int8, and the edge bundle."""
