"""contactops: the contact-center operating loop, open and scriptable.

Layers (data flows one way, nothing imports upward): models (``queueing``),
then data, operations and interfaces (``cli``).  See the README and ``docs/``.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
