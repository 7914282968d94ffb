"""envsetup: developer-environment recipes applied idempotently through pyinfra."""

__version__ = "0.1.0"
