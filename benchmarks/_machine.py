"""What every benchmark records about the machine and the code it timed."""

from __future__ import annotations

import hashlib
import importlib
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np


def pkg_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def source_fingerprint(package: str) -> str | None:
    """sha256 (first 12 hex digits) of a package's ``.py`` sources: the code timed."""
    try:
        module = importlib.import_module(package)
    except ImportError:
        return None
    digest = hashlib.sha256()
    root = Path(module.__file__ or "").parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def machine(fingerprints: dict[str, str], packages: tuple[str, ...]) -> dict[str, Any]:
    """Cores, CPU, platform, versions, the fingerprints ``{key: package}`` and the
    versions of ``packages``."""
    import numba

    return {
        "nproc": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu": cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "contactops": pkg_version("contactops"),
        **{key: source_fingerprint(package) for key, package in fingerprints.items()},
        **{name: pkg_version(name) for name in packages},
    }


def fmt_s(seconds: float) -> str:
    if seconds >= 60:
        return f"{seconds:,.1f} s ({seconds / 60:.1f} min)"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1e3:.3g} ms"
