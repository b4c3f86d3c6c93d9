"""Reference solutions for notebook 01."""
import torch

EXERCISES = {1: ["size_after_conv", "size_after_pool"], 2: ["max_pool_2x2"], 3: ["separable_weights"]}

# ResNet's stem, by the output-size formula o = (i + 2p - d(k - 1) - 1) // s + 1:
size_after_conv = (224 + 2 * 3 - (7 - 1) - 1) // 2 + 1                # 7x7 conv, stride 2, padding 3
size_after_pool = (size_after_conv + 2 * 1 - (3 - 1) - 1) // 2 + 1    # 3x3 max pooling, stride 2, padding 1


def max_pool_2x2(x: torch.Tensor) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).amax(dim=(3, 5))


def separable_weights(c_in: int, c_out: int, k: int) -> int:
    return k * k * c_in + c_in * c_out
