"""shopbot: a shop's chatbot grounded in its own catalog."""

__version__ = "0.1.0"
