"""contactops: the contact-center operating loop, open and scriptable.

Layers (data flows one way, nothing imports upward): models (``queueing``),
then data, operations and interfaces (``cli``).  See the README and ``docs/``.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__version__ = "0.1.0"
__all__ = ["__version__"]


def _lazy_exports(
    package: str, exports: Mapping[str, Iterable[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` (PEP 562) that import its re-exports on use.

    ``exports`` maps a submodule of ``package`` (``"_erlang"``) to the names it
    provides (``("ErlangC", ...)``).  ``from package import Name`` imports that
    one submodule the first time, so importing the package, or a light
    submodule of it, does not load what its heavy submodules import (numba
    kernels, DuckDB): the command line starts in a fraction of a second.
    """
    where = {name: f"{package}.{module}" for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook PEP 562 names
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # found directly from now on
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted({*vars(sys.modules[package]), *where})

    return __getattr__, __dir__
