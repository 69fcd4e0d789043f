"""Config values with a fixed set of choices, parsed once with an error naming the key and the choices."""
from __future__ import annotations

from enum import Enum


class Choice(str, Enum):
    """A `str` enum for one config key: `class Refill(Choice, key="data.refill")`; `Refill.parse(value)`
    fails with `data.refill='foo'; accepted: [...]`."""

    def __init_subclass__(cls, key: str = "", **kwargs):
        super().__init_subclass__(**kwargs)
        cls.config_key = key

    @classmethod
    def parse(cls, value: str | Choice):
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"{cls.config_key}={value!r}; accepted: {[choice.value for choice in cls]}") from None
