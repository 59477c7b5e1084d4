"""The MEDS dataset_version: a hash of the published data shards plus the code commit that built them."""

import hashlib
import subprocess
from pathlib import Path

from schemas.layout import Layout
from schemas.meds import SPLITS
from schemas.publish import dataset_files

_REPO = Path(__file__).resolve().parents[3]
_CHUNK = 1 << 20


def content_hash(layout: Layout) -> str:
    """blake2b over every data shard's split/name and bytes, in path order: equal data, equal hash.

    Shards are byte-for-byte reproducible (invariant 4), so a rebuild of the same landing gives the same hash.
    """
    h = hashlib.blake2b(digest_size=8)
    for path in dataset_files(layout.meds, "data/*/*.parquet"):  # published files only, never a staging one
        if path.parent.name not in SPLITS:
            continue
        h.update(f"{path.parent.name}/{path.name}\0".encode())
        with path.open("rb") as f:
            while block := f.read(_CHUNK):
                h.update(block)
    return h.hexdigest()


def code_commit() -> str | None:
    """The git commit of this checkout (with `-dirty` when tracked files changed), or None outside git."""
    try:
        head = subprocess.run(["git", "-C", str(_REPO), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(_REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}-dirty" if dirty else head or None


def dataset_version(layout: Layout, etl_version: str) -> str:
    """`data-<content hash>+code-<commit>`; `+longitude-<version>` when not built from a git checkout.

    >>> import tempfile; v = dataset_version(Layout(Path(tempfile.mkdtemp())), "0.1.0")
    >>> v.startswith("data-") and "+" in v
    True
    """
    commit = code_commit()
    return f"data-{content_hash(layout)}+" + (f"code-{commit}" if commit else f"longitude-{etl_version}")
