"""Build the API reference from docstrings with pdoc: `make docs` writes docs/api/ (not committed).

    python docs/build_api.py [--out docs/api] [PACKAGE ...]     # default: every package of the project

Every module is named explicitly: `model/__init__.py` imports lazily and lists names in `__all__` that pdoc
would otherwise take for submodules, documenting only those.
"""

import argparse
import os
import pkgutil
import warnings
from pathlib import Path

PACKAGES = ("schemas", "deid", "quality", "model", "synthetic", "featurestore", "pipelines")
REPO = Path(__file__).resolve().parents[1]


def modules(package: str) -> list[str]:
    """The package and every module below it, found on disk (nothing is imported to list them)."""
    found = [package]
    for info in pkgutil.walk_packages([str(REPO / package.replace(".", "/"))], prefix=f"{package}."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            found.append(info.name)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "api")
    parser.add_argument("packages", nargs="*", default=list(PACKAGES))
    args = parser.parse_args()
    os.environ.setdefault("PDOC_ALLOW_EXEC", "1")  # some libraries probe the platform with a subprocess
    # Expected, given the explicit list: lazy names in model.__all__, and subpackages pdoc also finds itself.
    warnings.filterwarnings("ignore", message=r"Found '\w+' in [\w.]+\.__all__, but it does not resolve")
    warnings.filterwarnings("ignore", message=r"The module specification '[\w.]+' adds a module named")
    import pdoc

    names = [name for package in args.packages for name in modules(package)]
    pdoc.pdoc(*names, output_directory=args.out)
    print(f"API reference for {len(names)} modules in {args.out}/index.html")


if __name__ == "__main__":
    main()
