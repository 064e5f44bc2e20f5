"""Convolutional networks from their published configurations: ResNet-18/50, MobileNetV2.

The layer lists follow torchvision's definitions (the models behind its published "GFLOPS"
figures): ResNet-50 is the V1.5 variant (stride 2 on the 3x3 convolution of the bottleneck,
as torchvision's documentation notes), MobileNetV2 is Sandler et al.'s Table 2 at width 1.0.
BatchNorm layers are kept as ``norm`` nodes with their scale and shift (2 per channel: what
torchvision counts as parameters; inference folds them into the convolution).
"""
from __future__ import annotations

from ._graph import Builder, WorkloadError

__all__ = ["resnet18", "resnet50", "mobilenetv2"]

_TORCHVISION = "https://pytorch.org/vision/stable/models"
# torchvision model pages list "GFLOPS" counted as multiply-accumulates of conv and linear
# layers (one MAC = one operation): resnet18 1.81, resnet50 4.09, mobilenet_v2 0.30; He et al.
# (CVPR 2016, Table 1) give 1.8e9 for ResNet-18 and Sandler et al. (CVPR 2018, Table 4) 300M
# multiply-adds for MobileNetV2.
PUBLISHED = {
    "resnet18": (1_810_000_000, "torchvision resnet18 (IMAGENET1K_V1): GFLOPS 1.81, "
                                "num_params 11689512; He et al. CVPR 2016 Table 1: 1.8e9"),
    "resnet50": (4_090_000_000, "torchvision resnet50 (V1.5): GFLOPS 4.09, num_params 25557032"),
    "mobilenetv2": (300_000_000, "Sandler et al. CVPR 2018 Table 4: 300M multiply-adds, 3.4M "
                                 "parameters; torchvision mobilenet_v2: GFLOPS 0.30, "
                                 "num_params 3504872"),
}


class _Fmap:
    """The running feature map of a CNN builder: tensor name and N, C, H, W."""

    def __init__(self, b: Builder, tensor: str, N: int, C: int, H: int, W: int):
        self.b, self.t, self.N, self.C, self.H, self.W = b, tensor, N, C, H, W

    def elems(self):
        return self.N * self.C * self.H * self.W

    def conv(self, name, C_out, k, stride=1, groups=1, bias=False, bn=True, act=None):
        b = self.b
        t = b.conv(name, self.t, N=self.N, C_in=self.C, H=self.H, W=self.W, C_out=C_out, kh=k,
                   stride=stride, groups=groups, bias=bias)
        s = b.g.nodes[name]["shape"]
        out = _Fmap(b, t, self.N, C_out, s["H_out"], s["W_out"])
        if bn:
            out.t = b.norm(f"{name}.bn", out.t, rows=C_out, cols=out.elems() // C_out,
                           fn="batchnorm", weight_elems=2 * C_out)
        if act:
            out.t = b.elementwise(f"{name}.{act}", [out.t], elems=out.elems(), fn=act)
        return out

    def pool(self, name, k, stride, pad, fn):
        b = self.b
        t = b.pool(name, self.t, N=self.N, C=self.C, H=self.H, W=self.W, kh=k, stride=stride,
                   pad=pad, fn=fn)
        s = b.g.nodes[name]["shape"]
        return _Fmap(b, t, self.N, self.C, s["H_out"], s["W_out"])

    def global_pool(self, name):
        t = self.b.pool(name, self.t, N=self.N, C=self.C, H=self.H, W=self.W, kh=self.H,
                        kw=self.W, stride=1, pad=0, fn="avg")
        return _Fmap(self.b, t, self.N, self.C, 1, 1)

    def add(self, name, other, act=None):
        t = self.b.elementwise(name, [self.t, other.t], elems=self.elems(), fn="add")
        if act:
            t = self.b.elementwise(f"{name}.{act}", [t], elems=self.elems(), fn=act)
        return _Fmap(self.b, t, self.N, self.C, self.H, self.W)

    def linear(self, name, out_features):
        K = self.C * self.H * self.W
        t = self.b.matmul(name, self.t, M=self.N, K=K, N=out_features, bias=True)
        return _Fmap(self.b, t, self.N, out_features, 1, 1)


def _start(name, source, key, batch, resolution, params):
    default = batch == 1 and resolution == 224
    pub, note = PUBLISHED[key]
    b = Builder(name, source, published_macs=pub if default else None,
                published_note=note if default else "published figure is for batch 1, 224x224",
                params=params)
    x = b.input("image", batch * 3 * resolution * resolution)
    return b, _Fmap(b, x, batch, 3, resolution, resolution)


def _check(batch, resolution):
    for label, v, lo in (("batch", batch, 1), ("resolution", resolution, 32)):
        if not isinstance(v, int) or isinstance(v, bool) or v < lo:
            raise WorkloadError(f"{label} must be an integer >= {lo}, not {v!r}")


def _resnet(depth: int, batch: int, resolution: int):
    _check(batch, resolution)
    bottleneck = depth == 50
    blocks = {18: (2, 2, 2, 2), 50: (3, 4, 6, 3)}[depth]
    b, x = _start(f"resnet{depth}",
                  f"He et al., Deep Residual Learning, CVPR 2016 (ResNet-{depth}); layer list as "
                  f"torchvision.models.resnet{depth}" + (" (V1.5)" if bottleneck else "")
                  + f"; {_TORCHVISION}", f"resnet{depth}", batch, resolution,
                  {"batch": batch, "resolution": resolution})
    x = x.conv("conv1", 64, 7, stride=2, act="relu")
    x = x.pool("maxpool", 3, 2, 1, "max")
    expansion = 4 if bottleneck else 1
    for stage, (planes, n) in enumerate(zip((64, 128, 256, 512), blocks), start=1):
        for i in range(n):
            stride = 2 if (stage > 1 and i == 0) else 1
            p = f"layer{stage}.{i}"
            identity = x
            if bottleneck:
                y = x.conv(f"{p}.conv1", planes, 1, act="relu")
                y = y.conv(f"{p}.conv2", planes, 3, stride=stride, act="relu")   # V1.5 stride
                y = y.conv(f"{p}.conv3", planes * expansion, 1)
            else:
                y = x.conv(f"{p}.conv1", planes, 3, stride=stride, act="relu")
                y = y.conv(f"{p}.conv2", planes, 3)
            if stride != 1 or x.C != planes * expansion:
                identity = x.conv(f"{p}.downsample", planes * expansion, 1, stride=stride)
            x = y.add(f"{p}.add", identity, act="relu")
    x = x.global_pool("avgpool")
    x = x.linear("fc", 1000)
    b.output(x.t)
    return b.finish()


def resnet18(batch: int = 1, resolution: int = 224):
    """ResNet-18, ImageNet classifier (1000 classes), batch x 3 x resolution x resolution."""
    return _resnet(18, batch, resolution)


def resnet50(batch: int = 1, resolution: int = 224):
    """ResNet-50 V1.5 as in torchvision (stride on the bottleneck's 3x3 convolution)."""
    return _resnet(50, batch, resolution)


# Sandler et al. Table 2: expansion t, output channels c, repeats n, first stride s.
_MBV2 = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
         (6, 160, 3, 2), (6, 320, 1, 1))


def mobilenetv2(batch: int = 1, resolution: int = 224):
    """MobileNetV2 (width 1.0): inverted residual blocks with ReLU6, linear bottlenecks."""
    _check(batch, resolution)
    b, x = _start("mobilenetv2", "Sandler et al., MobileNetV2: Inverted Residuals and Linear "
                  "Bottlenecks, CVPR 2018 (Table 2, width 1.0); layer list as "
                  f"torchvision.models.mobilenet_v2; {_TORCHVISION}", "mobilenetv2", batch,
                  resolution, {"batch": batch, "resolution": resolution})
    x = x.conv("features.0", 32, 3, stride=2, act="relu6")
    idx = 1
    for t, c, n, s in _MBV2:
        for i in range(n):
            stride = s if i == 0 else 1
            p = f"features.{idx}"
            y = x
            hidden = x.C * t
            if t != 1:
                y = y.conv(f"{p}.expand", hidden, 1, act="relu6")
            y = y.conv(f"{p}.dw", hidden, 3, stride=stride, groups=hidden, act="relu6")
            y = y.conv(f"{p}.project", c, 1)
            x = y.add(f"{p}.add", x) if (stride == 1 and x.C == c) else y
            idx += 1
    x = x.conv(f"features.{idx}", 1280, 1, act="relu6")
    x = x.global_pool("avgpool")
    x = x.linear("classifier", 1000)
    b.output(x.t)
    return b.finish()
