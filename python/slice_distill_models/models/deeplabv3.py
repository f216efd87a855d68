"""DeepLabv3 with a ResNet-50 backbone at output stride 8.

Follows Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation" (2017)
in the form torchvision ships as deeplabv3_resnet50 (no auxiliary head): a bottleneck
ResNet-50 whose last two stages replace their stride by dilation 2 and 4, an ASPP head
(1x1 branch, three 3x3 atrous branches at rates 12/24/36, image pooling; 256 channels each,
projected to 256 with dropout 0.5), a 3x3 conv, and a 1x1 conv to the classes; logits are
bilinearly upsampled to the input. The first conv takes one CT channel.

BatchNorm everywhere, as the original: training needs batches of two or more (the image
pooling branch normalises a 1x1 map).
"""
from __future__ import annotations

from typing import List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int, dilation: int, downsample: bool) -> None:
        super().__init__()
        out = planes * self.expansion
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        if downsample:
            self.downsample: nn.Module = nn.Sequential(nn.Conv2d(cin, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))
        else:
            self.downsample = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + self.downsample(x))


class ResNetBackbone(nn.Module):
    """Bottleneck ResNet; stages 3 and 4 dilated instead of strided (output stride 8)."""

    def __init__(self, in_channels: int, layers: Sequence[int], width: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        cin = width
        dilation = 1
        stages: List[nn.Module] = []
        for i, n in enumerate(layers):
            planes = width * 2**i
            stride = 1 if i == 0 else 2
            previous = dilation
            if i >= 2:  # replace the stride by dilation, as torchvision's replace_stride_with_dilation
                dilation *= stride
                stride = 1
            blocks: List[nn.Module] = []
            for j in range(n):
                # the first block of a stage keeps the previous dilation (torchvision's convention)
                d = previous if j == 0 else dilation
                s = stride if j == 0 else 1
                down = j == 0 and (s != 1 or cin != planes * Bottleneck.expansion)
                blocks.append(Bottleneck(cin, planes, s, d, down))
                cin = planes * Bottleneck.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.out_channels = cin

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(x)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class ConvBnReLU(nn.Sequential):
    def __init__(self, cin: int, cout: int, k: int, dilation: int = 1) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, k, padding=dilation * (k // 2), dilation=dilation, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )


class ImagePooling(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.conv = ConvBnReLU(cin, cout, 1)

    def forward(self, x: Tensor) -> Tensor:
        y = self.conv(self.pool(x))
        return F.interpolate(y, size=[x.shape[-2], x.shape[-1]], mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    def __init__(self, cin: int, rates: Sequence[int], cout: int, dropout: float = 0.5) -> None:
        super().__init__()
        branches: List[nn.Module] = [ConvBnReLU(cin, cout, 1)]
        for r in rates:
            branches.append(ConvBnReLU(cin, cout, 3, dilation=int(r)))
        branches.append(ImagePooling(cin, cout))
        self.branches = nn.ModuleList(branches)
        self.project = nn.Sequential(ConvBnReLU(len(branches) * cout, cout, 1), nn.Dropout(dropout))

    def forward(self, x: Tensor) -> Tensor:
        outs: List[Tensor] = []
        for branch in self.branches:
            outs.append(branch(x))
        return self.project(torch.cat(outs, dim=1))


class DeepLabV3(nn.Module):
    """forward(x: [B, 1, H, W]) -> logits [B, classes, H, W]."""

    def __init__(
        self,
        classes: int,
        in_channels: int = 1,
        layers: Sequence[int] = (3, 4, 6, 3),
        width: int = 64,
        aspp_channels: int = 256,
        rates: Sequence[int] = (12, 24, 36),
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.backbone = ResNetBackbone(in_channels, layers, width)
        self.aspp = ASPP(self.backbone.out_channels, rates, aspp_channels, dropout)
        self.head = ConvBnReLU(aspp_channels, aspp_channels, 3)
        self.classifier = nn.Conv2d(aspp_channels, classes, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and m is not self.classifier:
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise RuntimeError("DeepLabV3 expects [B, C, H, W]")
        size = [x.shape[-2], x.shape[-1]]
        y = self.classifier(self.head(self.aspp(self.backbone(x))))
        return F.interpolate(y, size=size, mode="bilinear", align_corners=False)
