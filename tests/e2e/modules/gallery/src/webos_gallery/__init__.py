"""Gallery: a test module whose code only its own host ever imports."""

__version__ = "0.1.0"
