"""Architecture families; each family = declarative genes + build(genes, ...) -> nn.Module."""

from __future__ import annotations

from biowear.models.resnet_lstm import ResNetLSTM, ResNetLSTMGenes, build, grid

__all__ = ["ResNetLSTM", "ResNetLSTMGenes", "build", "grid"]
