"""Tensors of any framework as NumPy arrays, copied to the host once, without importing the
framework: torch tensors are detached (``requires_grad``) and moved to the CPU, bfloat16
widened to float32 (NumPy has no bfloat16); DLPack producers go through
``numpy.from_dlpack``; anything else through ``numpy.asarray`` (JAX, TensorFlow, lists)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def to_array(obj: Any) -> Any:
    """``obj``'s values as a NumPy array (called only for objects that are not arrays)."""
    import numpy as np

    detach = getattr(obj, "detach", None)
    if callable(detach) and callable(getattr(obj, "cpu", None)):  # a torch tensor
        tensor = detach()
        if str(getattr(tensor, "device", "cpu")) != "cpu":
            tensor = tensor.cpu()
        if str(getattr(tensor, "dtype", "")) == "torch.bfloat16":
            tensor = tensor.float()
        numpy = getattr(tensor, "numpy", None)
        if callable(numpy):
            return numpy()
        return np.asarray(tensor)
    if hasattr(obj, "__dlpack__") and not hasattr(obj, "__array__"):
        return np.from_dlpack(obj)
    array = np.asarray(obj)
    if array.size and array.__array_interface__["data"][0] == 0:
        # NumPy trusts a forged __array_interface__; nothing may read from address 0.
        raise ValueError("its __array_interface__ points at address 0")
    return array
