"""Per-layer profiles of widely used vision networks, derived from their published layer shapes (no weights).

Each network is written down as its papers describe it and walked shape by shape: a convolution with ``k × k``
kernels, ``C_in / groups`` input channels and an ``H × W × C_out`` output costs ``H W C_out (C_in / groups) k²``
multiply-accumulates (MACs); a fully connected layer ``in × out``. ``ops`` counts two operations per MAC plus one
per element compared or added (pooling windows, residual sums, batch norm and ReLU are folded into their layer).
Activations are float32; the raw input is an 8-bit image. ``memory_bytes`` is what a layer moves: its weights and
its input and output activations (the roofline's memory term).

Split points are where one tensor crosses: after each layer of the chain networks, after each residual block of
ResNet-18 and MobileNetV2 (a split inside a block would need the skip tensor too).

Sources: AlexNet, Krizhevsky et al., NIPS 2012 (two-group layout, 227×227 input); VGG-16, Simonyan & Zisserman,
ICLR 2015 (configuration D); ResNet-18, He et al., CVPR 2016, Table 1; MobileNetV2, Sandler et al., CVPR 2018,
Table 2. Regenerate the shipped CSV files with ``python -m simulator.dnn.zoo``.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: bytes per activation and weight (float32) and per input pixel channel (uint8 image)
FLOAT_BYTES = 4
INPUT_BYTES = 1
DATA_DIR = Path(__file__).resolve().parent / "data"
COLUMNS = ("layer", "kind", "macs", "params", "ops", "output_bytes", "memory_bytes")


@dataclass(frozen=True, slots=True)
class LayerShape:
    """One split point's layer: its cost and the tensor it hands on."""

    name: str
    kind: str
    macs: int
    params: int
    ops: int
    output_elements: int
    memory_bytes: int

    def row(self) -> dict[str, object]:
        """The CSV row (the input row's tensor is 8-bit, every other float32)."""
        width = INPUT_BYTES if self.kind == "input" else FLOAT_BYTES
        return {"layer": self.name, "kind": self.kind, "macs": self.macs, "params": self.params, "ops": self.ops,
                "output_bytes": self.output_elements * width, "memory_bytes": self.memory_bytes}


@dataclass
class Walker:
    """Walks a network's tensor shape ``(channels, height, width)`` and accumulates the current layer's cost."""

    channels: int
    height: int
    width: int
    layers: list[LayerShape] = field(default_factory=list)
    _macs: int = 0
    _params: int = 0
    _ops: int = 0
    _input_elements: int = 0

    def __post_init__(self) -> None:
        self.layers.append(LayerShape("input", "input", 0, 0, 0, self.elements, 0))
        self._input_elements = self.elements

    @property
    def elements(self) -> int:
        """Elements of the current tensor."""
        return self.channels * self.height * self.width

    def conv(self, out_channels: int, kernel: int, stride: int = 1, pad: int = 0, groups: int = 1,
             bias: bool = True, norm: bool = False) -> None:
        """A convolution (plus its ReLU/batch norm, folded in)."""
        self.height = (self.height + 2 * pad - kernel) // stride + 1
        self.width = (self.width + 2 * pad - kernel) // stride + 1
        self._charge_conv(out_channels, kernel, groups, bias, norm)
        self.channels = out_channels

    def projection(self, out_channels: int, stride: int) -> None:
        """A strided 1×1 convolution on a residual block's shortcut (batch norm, no bias): its output has the shape
        the block's main path is about to produce, so the walk's shape is left to the main path."""
        height, width = self.height, self.width
        self.height, self.width = (height - 1) // stride + 1, (width - 1) // stride + 1
        self._charge_conv(out_channels, 1, 1, False, True)
        self.height, self.width = height, width

    def _charge_conv(self, out_channels: int, kernel: int, groups: int, bias: bool, norm: bool) -> None:
        """Add a convolution from the current channels to ``out_channels`` at the current output size."""
        weights = out_channels * (self.channels // groups) * kernel * kernel
        macs = weights * self.height * self.width
        self._macs += macs
        self._params += weights + (out_channels if bias else 0) + (2 * out_channels if norm else 0)
        self._ops += 2 * macs

    def pool(self, kernel: int, stride: int, pad: int = 0) -> None:
        """A max or average pooling window (``kernel`` 0: global)."""
        if kernel == 0:
            kernel, stride = self.height, 1
        self.height = (self.height + 2 * pad - kernel) // stride + 1
        self.width = (self.width + 2 * pad - kernel) // stride + 1
        self._ops += self.elements * kernel * kernel

    def fc(self, outputs: int) -> None:
        """A fully connected layer on the flattened tensor."""
        weights = self.elements * outputs
        self._macs += weights
        self._params += weights + outputs
        self._ops += 2 * weights
        self.channels, self.height, self.width = outputs, 1, 1

    def add(self) -> None:
        """A residual sum (one addition per output element)."""
        self._ops += self.elements

    def emit(self, name: str, kind: str) -> None:
        """Close the current layer: everything accumulated since the last split point becomes one row."""
        weight_bytes = self._params * FLOAT_BYTES
        previous = self.layers[-1]
        in_width = INPUT_BYTES if previous.kind == "input" else FLOAT_BYTES
        memory = weight_bytes + previous.output_elements * in_width + self.elements * FLOAT_BYTES
        self.layers.append(LayerShape(name, kind, self._macs, self._params, self._ops, self.elements, memory))
        self._macs = self._params = self._ops = 0


def alexnet() -> list[LayerShape]:
    """AlexNet as published: two groups in conv2, conv4, conv5 (the two GPUs), 227×227×3 input."""
    net = Walker(3, 227, 227)
    steps: tuple[tuple[str, Callable[[], object]], ...] = (
        ("conv1", lambda: net.conv(96, 11, stride=4)), ("pool1", lambda: net.pool(3, 2)),
        ("conv2", lambda: net.conv(256, 5, pad=2, groups=2)), ("pool2", lambda: net.pool(3, 2)),
        ("conv3", lambda: net.conv(384, 3, pad=1)), ("conv4", lambda: net.conv(384, 3, pad=1, groups=2)),
        ("conv5", lambda: net.conv(256, 3, pad=1, groups=2)), ("pool5", lambda: net.pool(3, 2)),
        ("fc6", lambda: net.fc(4096)), ("fc7", lambda: net.fc(4096)), ("fc8", lambda: net.fc(1000)),
    )
    for name, step in steps:
        step()
        net.emit(name, name.rstrip("0123456789"))
    return net.layers


def vgg16() -> list[LayerShape]:
    """VGG-16 (configuration D): thirteen 3×3 convolutions in five stages, then three fully connected layers."""
    net = Walker(3, 224, 224)
    for stage, (width, convs) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), start=1):
        for index in range(1, convs + 1):
            net.conv(width, 3, pad=1)
            net.emit(f"conv{stage}_{index}", "conv")
        net.pool(2, 2)
        net.emit(f"pool{stage}", "pool")
    for name, outputs in (("fc6", 4096), ("fc7", 4096), ("fc8", 1000)):
        net.fc(outputs)
        net.emit(name, "fc")
    return net.layers


def resnet18() -> list[LayerShape]:
    """ResNet-18: a 7×7 stem, four stages of two basic blocks (1×1 projection when the shape changes), a
    classifier; batch norm after every convolution, no convolution biases."""
    net = Walker(3, 224, 224)
    net.conv(64, 7, stride=2, pad=3, bias=False, norm=True)
    net.emit("conv1", "conv")
    net.pool(3, 2, pad=1)
    net.emit("maxpool", "pool")
    for stage, width in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            stride = 2 if stage > 1 and block == 0 else 1
            if stride != 1 or net.channels != width:
                net.projection(width, stride)
            net.conv(width, 3, stride=stride, pad=1, bias=False, norm=True)
            net.conv(width, 3, pad=1, bias=False, norm=True)
            net.add()
            net.emit(f"layer{stage}.{block}", "block")
    net.pool(0, 1)
    net.emit("avgpool", "pool")
    net.fc(1000)
    net.emit("fc", "fc")
    return net.layers


#: MobileNetV2 bottleneck stages (Sandler et al. 2018, Table 2): expansion t, output channels c, repeats n, stride s
MOBILENETV2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                      (6, 320, 1, 1))


def mobilenetv2() -> list[LayerShape]:
    """MobileNetV2 (width 1.0, 224×224): a 3×3 stem, seventeen inverted-residual bottlenecks (1×1 expansion,
    3×3 depthwise, 1×1 linear projection; a residual sum when stride 1 keeps the width), a 1×1 to 1280 channels,
    global pooling and the classifier."""
    net = Walker(3, 224, 224)
    net.conv(32, 3, stride=2, pad=1, bias=False, norm=True)
    net.emit("conv1", "conv")
    index = 0
    for expansion, width, repeats, first_stride in MOBILENETV2_STAGES:
        for repeat in range(repeats):
            stride = first_stride if repeat == 0 else 1
            residual = stride == 1 and net.channels == width
            hidden = net.channels * expansion
            if expansion != 1:
                net.conv(hidden, 1, bias=False, norm=True)
            net.conv(hidden, 3, stride=stride, pad=1, groups=hidden, bias=False, norm=True)
            net.conv(width, 1, bias=False, norm=True)
            if residual:
                net.add()
            index += 1
            net.emit(f"block{index}", "block")
    net.conv(1280, 1, bias=False, norm=True)
    net.emit("conv_last", "conv")
    net.pool(0, 1)
    net.emit("avgpool", "pool")
    net.fc(1000)
    net.emit("fc", "fc")
    return net.layers


#: bundled profile name -> builder
NETWORKS: dict[str, Callable[[], list[LayerShape]]] = {
    "alexnet": alexnet, "vgg16": vgg16, "resnet18": resnet18, "mobilenetv2": mobilenetv2,
}


def write_profiles(directory: Path = DATA_DIR) -> list[Path]:
    """Write ``NAME.csv`` for every network into ``directory``; return the paths."""
    written = []
    for name, build in NETWORKS.items():
        path = directory / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(layer.row() for layer in build())
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_profiles(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA_DIR):
        sys.stdout.write(f"{written_path}\n")
