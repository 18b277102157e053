"""The kernel's version, kept apart so importing it costs nothing."""

__version__ = "0.1.0"
