"""Fusion: observations of every modality into located, corroborated events."""

from truceline.fusion.config import FusionConfig
from truceline.fusion.engine import FusionResult, fuse

__all__ = ["FusionConfig", "FusionResult", "fuse"]
