"""Answer backends. See :mod:`shopbot.generators.base` for the contract."""

from shopbot.generators.base import Generator, GeneratorFailed, GeneratorUnavailable, Turn
from shopbot.generators.registry import (
    UnknownGenerator,
    available,
    create_generator,
    explain_choice,
    register,
    resolve_name,
)

__all__ = [
    "Generator",
    "GeneratorFailed",
    "GeneratorUnavailable",
    "Turn",
    "UnknownGenerator",
    "available",
    "create_generator",
    "explain_choice",
    "register",
    "resolve_name",
]
