"""truceline: ceasefire monitoring and verification with drones, ground sensors and satellites."""

__version__ = "0.1.0"
