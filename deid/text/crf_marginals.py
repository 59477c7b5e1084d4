"""A CRFsuite model's marginals from attribute ids: the weights read from the model file, each token's state
scores summed in the order CRFsuite sums them, and CRFsuite's own forward-backward (its exported C functions),
so the same numbers to the last bit without CRFsuite converting and looking up every attribute's string."""

import ctypes
import struct
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path

import numpy as np


class FastTaggerWarning(UserWarning):
    """The tagger runs through pycrfsuite's Tagger (the same marginals, slower): the fast path did not agree."""


@dataclass(frozen=True)
class CrfWeights:
    """A CRFsuite model's labels and attributes (in id order), state weights (attributes, labels) and
    transition weights (labels, labels)."""

    labels: tuple[str, ...]
    attributes: tuple[str, ...]
    state: np.ndarray  # (A, L)
    transitions: np.ndarray  # (L, L)


def read_weights(path: Path) -> CrfWeights:
    """The weights of a CRFsuite 1st-order model file (crf1d: a header, the FEAT chunk of (type, source,
    target, weight) records, and two CQDB string tables), exactly as stored (pycrfsuite's dump rounds them)."""
    buf = Path(path).read_bytes()
    try:
        magic, _, kind, _, _, n_labels, n_attrs, off_feat, off_labels, off_attrs = struct.unpack_from(
            "<4sI4s7I", buf, 0
        )
        if magic != b"lCRF" or kind != b"FOMC" or buf[off_feat : off_feat + 4] != b"FEAT":
            raise ValueError("not a CRFsuite 1st-order model")
        labels, attributes = _strings(buf, off_labels), _strings(buf, off_attrs)
        if len(labels) != n_labels or len(attributes) != n_attrs:
            raise ValueError("label or attribute count disagrees with the header")
        (count,) = struct.unpack_from("<I", buf, off_feat + 8)
        record = np.dtype([("type", "<u4"), ("src", "<u4"), ("dst", "<u4"), ("weight", "<f8")])
        features = np.frombuffer(buf, dtype=record, count=count, offset=off_feat + 12)
    except (struct.error, ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: cannot read the CRFsuite model ({err})") from None
    state = np.zeros((n_attrs, n_labels))
    transitions = np.zeros((n_labels, n_labels))
    for kind_id, table in ((0, state), (1, transitions)):  # CRFsuite's FT_STATE and FT_TRANS
        part = features[features["type"] == kind_id]
        table[part["src"], part["dst"]] = part["weight"]
    return CrfWeights(tuple(labels), tuple(attributes), state, transitions)


def _strings(buf: bytes, offset: int) -> list[str]:
    """A CQDB chunk's strings by id (its backward array: id -> record of id, size, NUL-terminated key)."""
    if buf[offset : offset + 4] != b"CQDB":
        raise ValueError("a string table is not a CQDB chunk")
    size, n, bwd = struct.unpack_from("<I8xII", buf, offset + 4)
    out = []
    for i, record in enumerate(struct.unpack_from(f"<{n}I", buf, offset + bwd)):
        rid, ksize = struct.unpack_from("<II", buf, offset + record)
        if rid != i or record + 8 + ksize > size:
            raise ValueError("a string table record is out of place")
        out.append(buf[offset + record + 8 : offset + record + 7 + ksize].decode())
    return out


_DOUBLES = ctypes.POINTER(ctypes.c_double)


class _Context(ctypes.Structure):
    """CRFsuite's crf1d_context_t (crf1d.h), as far as it is read here."""

    _fields_ = [
        ("flag", ctypes.c_int),
        ("num_labels", ctypes.c_int),
        ("num_items", ctypes.c_int),
        ("cap_items", ctypes.c_int),
        ("log_norm", ctypes.c_double),
        *((name, _DOUBLES) for name in ("state", "trans", "alpha", "beta", "scale", "row")),
        ("backward_edge", ctypes.POINTER(ctypes.c_int)),
        *((name, _DOUBLES) for name in ("exp_state", "exp_trans", "mexp_state", "mexp_trans")),
    ]


_MARGINALS = 2  # CTXF_MARGINALS: the forward-backward arrays, no Viterbi back-pointers


@lru_cache(maxsize=1)
def _library() -> ctypes.CDLL | None:
    """The CRFsuite context functions that pycrfsuite's extension exports (None where it does not)."""
    from pycrfsuite import _pycrfsuite

    try:
        lib = ctypes.CDLL(_pycrfsuite.__file__)
        ctx = ctypes.POINTER(_Context)
        lib.crf1dc_new.argtypes, lib.crf1dc_new.restype = [ctypes.c_int] * 3, ctx
        lib.crf1dc_set_num_items.argtypes, lib.crf1dc_set_num_items.restype = [ctx, ctypes.c_int], ctypes.c_int
        for name in ("crf1dc_delete", "crf1dc_exp_state", "crf1dc_exp_transition", "crf1dc_alpha_score",
                     "crf1dc_beta_score"):  # fmt: skip
            getattr(lib, name).argtypes, getattr(lib, name).restype = [ctx], None
    except (OSError, AttributeError):
        return None
    return lib


class MarginalScorer:
    """Marginals of one model for sequences of attribute ids of `vocabulary` (1-based; id 0 adds nothing,
    as CRFsuite skips an attribute it lacks). Not thread-safe: one context, as pycrfsuite's Tagger."""

    def __init__(self, weights: CrfWeights, vocabulary: Mapping[str, int], lib: ctypes.CDLL) -> None:
        n_labels = len(weights.labels)
        # (V + 1, L): row 0 and the rows of attributes the model lacks are zero; adding 0.0 changes no sum
        self.weights = np.zeros((max(vocabulary.values(), default=0) + 1, n_labels))
        rows = [(vocabulary[a], i) for i, a in enumerate(weights.attributes) if a in vocabulary]
        if rows:
            ids, aids = map(list, zip(*rows, strict=True))
            self.weights[ids] = weights.state[aids]
        self._lib = lib
        self._ctx = lib.crf1dc_new(_MARGINALS, n_labels, 1)
        if not self._ctx or not _layout_holds(self._ctx.contents, n_labels):
            raise RuntimeError("CRFsuite's context is not laid out as crf1d.h says")
        transitions = np.ascontiguousarray(weights.transitions)
        ctypes.memmove(self._ctx.contents.trans, transitions.ctypes.data, transitions.nbytes)
        lib.crf1dc_exp_transition(self._ctx)

    def __del__(self) -> None:
        if getattr(self, "_ctx", None):
            self._lib.crf1dc_delete(self._ctx)

    def marginals(self, ids: np.ndarray) -> np.ndarray:
        """(T, L) marginals for `ids` (T, K): token t's attributes in order, padded with 0; each value is
        CRFsuite's `Tagger.marginal(label, t)` for the same attributes."""
        # summed over K one attribute after the other, as CRFsuite adds them (the order sets the last bits)
        state = np.add.reduce(np.take(self.weights, ids, axis=0), axis=1)  # (T, L); take: quicker than [ids]
        n, n_labels = state.shape
        if self._lib.crf1dc_set_num_items(self._ctx, n):
            raise MemoryError("CRFsuite could not allocate its forward-backward arrays")
        ctx = self._ctx.contents
        ctypes.memmove(ctx.state, state.ctypes.data, state.nbytes)
        self._lib.crf1dc_exp_state(self._ctx)
        self._lib.crf1dc_alpha_score(self._ctx)
        self._lib.crf1dc_beta_score(self._ctx)
        alpha, beta, scale = (_view(pointer, size) for pointer, size in
                              ((ctx.alpha, n * n_labels), (ctx.beta, n * n_labels), (ctx.scale, n)))  # fmt: skip
        # crf1dc_marginal_point: fwd[l] * bwd[l] / scale_factor[t]
        return (alpha * beta).reshape(n, n_labels) / scale[:, None]


def _view(pointer, size: int) -> np.ndarray:
    """The `size` doubles at a context's array, read in place (copy before the next call changes them)."""
    return np.frombuffer((ctypes.c_double * size).from_address(ctypes.addressof(pointer.contents)), np.float64)


def _layout_holds(ctx: _Context, n_labels: int) -> bool:
    """A fresh context (flag, L, hint 1) as crf1dc_new leaves it: the fields read here are where expected."""
    arrays = ("state", "trans", "alpha", "beta", "scale", "row", "exp_state", "exp_trans", "mexp_state")
    return (
        (ctx.flag, ctx.num_labels, ctx.num_items, ctx.cap_items, ctx.log_norm) == (_MARGINALS, n_labels, 0, 1, 0.0)
        and all(getattr(ctx, name) for name in arrays)
        and not ctx.backward_edge
    )


def id_matrix(rows: Sequence[Sequence[int]]) -> np.ndarray:
    """(T, K) ids: row t is rows[t] followed by zeros."""
    lengths = np.fromiter(map(len, rows), dtype=np.intp, count=len(rows))
    out = np.zeros((len(rows), int(lengths.max(initial=1))), dtype=np.intp)
    out[np.arange(out.shape[1]) < lengths[:, None]] = np.fromiter(
        chain.from_iterable(rows), dtype=np.intp, count=int(lengths.sum())
    )
    return out


def with_rows(ids: np.ndarray, rows: Sequence[Sequence[int]], base: Sequence[Sequence[int]]) -> np.ndarray:
    """`ids` (the id_matrix of `base`) with each row of `rows` that is not its row of `base` (the same
    object) in its place: id_matrix(rows) without rebuilding the rows that did not change."""
    changed = [i for i, (row, was) in enumerate(zip(rows, base, strict=True)) if row is not was]
    if not changed:
        return ids
    new = id_matrix([rows[i] for i in changed])
    out = np.zeros((len(rows), max(ids.shape[1], new.shape[1])), dtype=np.intp)
    out[:, : ids.shape[1]] = ids
    out[changed] = 0
    out[changed, : new.shape[1]] = new
    return out


def scorer(model_path: Path, vocabulary: Mapping[str, int], tagger) -> MarginalScorer | None:
    """The fast scorer of a model, once it gives pycrfsuite's `tagger` (the same model opened) the same
    marginals to the last bit on a probe sequence; else None, with a FastTaggerWarning."""
    lib = _library()
    try:
        if lib is None:
            raise RuntimeError("pycrfsuite's extension does not export CRFsuite's context functions")
        weights = read_weights(model_path)
        fast = MarginalScorer(weights, vocabulary, lib)
        probe = _probe([a for a in weights.attributes if a in vocabulary])
        got = fast.marginals(id_matrix([[vocabulary[a] for a in token] for token in probe]))
        tagger.set([[a.encode() for a in token] for token in probe])
        want = np.array([[tagger.marginal(label, t) for label in weights.labels] for t in range(len(probe))])
        if not np.array_equal(got, want):
            raise RuntimeError("its marginals differ from pycrfsuite's on the probe sequence")
    except (RuntimeError, ValueError, MemoryError) as err:
        warnings.warn(f"{model_path}: the tagger runs through pycrfsuite's Tagger (slower): {err}",
                      FastTaggerWarning, stacklevel=3)  # fmt: skip
        return None
    return fast


def _probe(attributes: Sequence[str], length: int = 48) -> list[list[str]]:
    """Tokens of 1 to 30 of the model's attributes each, some twice: enough terms in enough orders that a
    different summation order or a misread weight changes some marginal's last bits."""
    if not attributes:
        return [[]]
    step = max(1, len(attributes) // 997)
    return [
        [attributes[(t * 131 + k * step * 17) % len(attributes)] for k in range(1 + (t * 7) % 30)]
        + [attributes[t % len(attributes)]] * (t % 3)
        for t in range(length)
    ]
