"""int8 weight quantization of the MatMuls, and the speed guard that can refuse it.

Two schemes, both MatMul-only (embeddings, LayerNorm and softmax stay fp32):

- ``dynamic``: per-channel int8 weights, activations quantized per tensor at run time
  (``quantize_dynamic``). Fastest, but per-tensor activation scales lose accuracy on
  models with outlier activations (all-MiniLM-L6-v2: min cosine 0.95 on our samples).
- ``blockwise``: 8-bit weights in blocks of 32 along the reduction axis, activations
  quantized per block at run time (``MatMulNBits``, accuracy level 4). Finer scales, so
  it keeps min cosine above 0.99 where ``dynamic`` does not; needs the ``onnx-ir`` package.

``auto`` tries them in that order and keeps the first that passes the parity gate and
the speed guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SCHEMES = ("dynamic", "blockwise")
BLOCK_SIZE = 32


class QuantizationUnavailable(RuntimeError):
    """The scheme needs a package that is not installed (the message names it)."""


def quantize(src: Path, dst: Path, scheme: str) -> None:
    """Write an int8 copy of ``src`` to ``dst`` with ``scheme``."""
    import onnx

    if scheme == "dynamic":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(
            str(src),
            str(dst),
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            weight_type=QuantType.QInt8,
            # fused nodes (Attention, SkipLayerNorm) come from another domain; say their
            # outputs are fp32 so shape inference does not stop the quantizer.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        return
    if scheme == "blockwise":
        try:
            from onnxruntime.quantization.matmul_nbits_quantizer import (
                DefaultWeightOnlyQuantConfig,
                MatMulNBitsQuantizer,
            )
        except ImportError as exc:
            raise QuantizationUnavailable(
                f"blockwise int8 needs the onnx-ir package: pip install onnx-ir ({exc})"
            ) from exc
        config = DefaultWeightOnlyQuantConfig(
            block_size=BLOCK_SIZE, is_symmetric=True, accuracy_level=4, bits=8
        )
        quantizer = MatMulNBitsQuantizer(
            onnx.load(str(src)), bits=8, block_size=BLOCK_SIZE, is_symmetric=True,
            accuracy_level=4, algo_config=config,
        )  # fmt: skip
        quantizer.process()
        quantizer.model.save_model_to_file(str(dst), False)
        return
    raise ValueError(f"unknown int8 scheme {scheme!r}: choose one of {', '.join(SCHEMES)}")


@dataclass
class SpeedVerdict:
    faster: bool
    speedup: float
    message: str


def speed_guard(fp32_ms: float, int8_ms: float, min_speedup: float) -> SpeedVerdict:
    """int8 ships only if it is at least ``min_speedup`` times faster than fp32 here."""
    speedup = fp32_ms / int8_ms if int8_ms > 0 else 0.0
    if speedup >= min_speedup:
        return SpeedVerdict(True, speedup, f"int8 is {speedup:.2f}x faster than fp32")
    return SpeedVerdict(
        False,
        speedup,
        f"int8 is only {speedup:.2f}x the speed of fp32 on this CPU (needs {min_speedup}x): "
        "kept fp32, which is as accurate and at least as fast",
    )
