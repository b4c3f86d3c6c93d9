"""Reference solutions for notebook 01."""
import torch


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


# ResNet's stem: 7x7 conv, stride 2, padding 3; then 3x3 max pooling, stride 2, padding 1
_AFTER_STEM_CONV = conv_output_size(224, 7, 2, 3)
RESNET_STEM_SIZES = (_AFTER_STEM_CONV, conv_output_size(_AFTER_STEM_CONV, 3, 2, 1))


def max_pool_2x2(x: torch.Tensor) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).amax(dim=(3, 5))


def separable_weights(c_in: int, c_out: int, k: int) -> int:
    return k * k * c_in + c_in * c_out
