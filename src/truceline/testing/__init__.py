"""Public testing helpers: seeded synthetic scenes and scorers shared by tests and benchmarks."""

from truceline.testing.ground import AssociationScene, association_counts, association_scene

__all__ = ["AssociationScene", "association_counts", "association_scene"]
