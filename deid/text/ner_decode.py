"""spaCy's greedy NER decoder, the same moves and the same scores, stepped for a whole batch of texts at once in
numpy instead of one state and one move's validity check at a time (most of the NER's time on short lines)."""

from collections.abc import Iterator, Sequence

import numpy as np

Entity = tuple[int, int, str]  # (start char, end char, label)
_MOVES = "BILUO"
# Tokens whose transitions are stepped together: their precomputed features take 1.5 kB each, so a batch of
# long lines is decoded in parts of about 25 MB (short lines, the usual case, a batch at a time).
_DECODE_TOKENS = 16_384


def fast_decoder_fits(nlp) -> bool:
    """Whether the pipeline's NER is the kind this decoder reproduces: greedy (beam width 1), BILUO moves,
    three state features (B0, the open entity's first word, the word before B0), a maxout lower layer and
    a linear output layer, no unseen classes. spaCy's small English models are."""
    if "ner" not in nlp.pipe_names:
        return False
    ner = nlp.get_pipe("ner")
    model = ner.model
    names = _class_names(ner)
    try:
        lower, upper = model.get_ref("lower"), model.get_ref("upper")
        shapes_fit = (
            lower.get_dim("nF") == 3
            and lower.get_dim("nP") >= 2
            and upper.get_param("W").shape == (len(names), lower.get_dim("nO"))
        )
    except (KeyError, ValueError, AttributeError):
        return False
    return (
        shapes_fit
        and ner.cfg.get("beam_width") == 1
        and model.attrs.get("has_upper") is True
        and not model.attrs.get("unseen_classes")
        and type(ner.moves).__name__ == "BiluoPushDown"
        and all(n == "O" or (n[:1] in "BILU" and n[1:2] == "-") for n in names)
    )


def _class_names(ner) -> list[str]:
    """The moves in the order of the output layer's rows, "U-" (a unit without a label, which only a preset
    blocked token allows) included."""
    return [ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)]


class GreedyNer:
    """The NER of `nlp` (a pipeline for which fast_decoder_fits holds), read like nlp.pipe reads it: texts in
    batches of `batch_size`, each sorted by length into sub-batches of a quarter of that, whose tokens go
    through the model's tok2vec and lower layer together (so each token's vectors are the bits spaCy's pipe
    computes); then the transitions, which spaCy takes one state at a time in C, taken for all states of
    the sub-batch together. The scores are the same sums in the same order (the output layer through the
    same BLIS kernel), the valid moves are spaCy's rules for texts without preset entities, ties go to the
    lowest move as in spaCy's argmax; tests/deid/test_ner_decode.py compares the entities with spaCy's."""

    def __init__(self, nlp) -> None:
        from blis.py import gemm
        from spacy.attrs import IDX, IS_SPACE, LENGTH, SENT_START

        ner = nlp.get_pipe("ner")
        model = ner.model
        self._nlp = nlp
        self._gemm = gemm
        self._attrs = [IDX, LENGTH, IS_SPACE, SENT_START]
        self._tok2vec = model.get_ref("tok2vec")
        self._lower = model.get_ref("lower")
        self._pad = np.ascontiguousarray(self._lower.get_param("pad"))  # (1, 3, hidden, pieces)
        self._bias = np.ascontiguousarray(self._lower.get_param("b"))  # (hidden, pieces)
        upper = model.get_ref("upper")
        self._weights = np.ascontiguousarray(upper.get_param("W"))  # (moves, hidden)
        self._out_bias = np.ascontiguousarray(upper.get_param("b"))
        names = _class_names(ner)
        kinds = np.array([_MOVES.index(n[0]) for n in names])
        labels = [n[2:] if n != "O" else "" for n in names]
        label_ids = {label: i for i, label in enumerate(sorted(set(labels)))}
        self._label_of_move = np.array([label_ids[label] for label in labels])
        self._label_names = sorted(label_ids, key=label_ids.__getitem__)
        self._is = {m: kinds == _MOVES.index(m) for m in _MOVES}
        self._kind = kinds
        self._unlabelled = np.array([label == "" for label in labels])

    def __call__(self, texts: Sequence[str], batch_size: int = 256) -> Iterator[tuple[Entity, ...]]:
        """Each text's entities, in order."""
        sub_size = max(batch_size // 4, 2)
        for start in range(0, len(texts), batch_size):
            docs = [self._nlp.make_doc(t) for t in texts[start : start + batch_size]]
            found: list[tuple[Entity, ...]] = [()] * len(docs)
            order = sorted(range(len(docs)), key=lambda i: len(docs[i]))  # spaCy's sub-batches
            group: list[int] = []
            rows = [self._pad]
            for s in range(0, len(order), sub_size):
                sub = [i for i in order[s : s + sub_size] if len(docs[i])]
                if sub:  # rows 1.. of the sub-batch's (tokens + 1, 3, hidden, pieces); row 0 is the padding
                    rows.append(self._lower.predict(self._tok2vec.predict([docs[i] for i in sub]))[1:])
                    group.extend(sub)
                if group and (sum(len(r) for r in rows) >= _DECODE_TOKENS or s + sub_size >= len(order)):
                    for i, ents in zip(
                        group, self._read([docs[i] for i in group], np.concatenate(rows)), strict=True
                    ):
                        found[i] = ents
                    group, rows = [], [self._pad]
            yield from found

    def _read(self, docs: list, cached: np.ndarray) -> list[tuple[Entity, ...]]:
        """The entities of `docs` (none empty), whose tokens' precomputed features are the rows of `cached`
        after the padding row, doc after doc."""
        lengths = np.array([len(d) for d in docs])
        tokens = np.concatenate([d.to_array(self._attrs) for d in docs]).astype(np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        spans = self._decode(cached, lengths, offsets, tokens[:, 2].astype(bool), tokens[:, 3] == 1)
        out: list[tuple[Entity, ...]] = []
        for offset, ents in zip(offsets, spans, strict=True):
            row = []
            for first, end, label in ents:
                a, b = offset + first, offset + end - 1
                row.append((int(tokens[a, 0]), int(tokens[b, 0] + tokens[b, 1]), self._label_names[label]))
            out.append(tuple(row))
        return out

    def _decode(self, cached, lengths, offsets, is_space, sent_start) -> list[list[tuple[int, int, int]]]:
        """Greedy BILUO transitions for every text at once: at step t each unfinished text reads its t-th token
        (an NER move consumes exactly one token), so the unfinished texts are those longer than t."""
        n = len(lengths)
        by_len = np.argsort(-lengths, kind="stable")  # the unfinished ones are a prefix of this order
        lens = lengths[by_len]
        base = offsets[by_len] + 1  # row of the text's first token in `cached`
        open_ = np.zeros(n, dtype=bool)
        ent_start = np.zeros(n, dtype=np.int64)
        ent_label = np.zeros(n, dtype=np.int64)
        ents: list[list[tuple[int, int, int]]] = [[] for _ in range(n)]
        f0c, f1c, f2c = cached[:, 0], cached[:, 1], cached[:, 2]
        is_b, is_i, is_l, is_u, is_o = (self._is[m] for m in _MOVES)
        labelled = ~self._unlabelled
        move_label = self._label_of_move
        total = len(is_space)
        for t in range(int(lens[0])):
            k = int(np.searchsorted(-lens, -t, side="left"))  # texts longer than t
            op = open_[:k]
            b0 = base[:k] + t
            # ((0 + f0) + f1) + f2 + bias, the order of spaCy's sum_state_features and bias add
            unmaxed = f0c[b0] + f1c[np.where(op, base[:k] + ent_start[:k], 0)]
            unmaxed += f2c[np.where(op, b0 - 1, 0)]
            unmaxed += self._bias
            hidden = unmaxed[:, :, 0]  # maxout; an elementwise maximum over the pieces is a fast max
            for piece in range(1, unmaxed.shape[2]):
                hidden = np.maximum(hidden, unmaxed[:, :, piece])
            scores = self._gemm(hidden, self._weights, trans2=True, beta=0.0)
            scores += self._out_bias
            # validity, spaCy's ner.pyx rules without preset entities
            token = b0 - 1
            nxt = token + 1
            has_next = (t + 1) < lens[:k]
            next_starts = np.zeros(k, dtype=bool)
            inside = nxt < total
            next_starts[inside] = sent_start[nxt[inside]]
            next_starts &= has_next
            space = is_space[token]
            closed = ~op
            same_label = move_label[None, :] == ent_label[:k, None]
            valid = (
                (is_b & labelled)[None, :] & (closed & has_next & ~next_starts & ~space)[:, None]
                | (is_i & labelled)[None, :] & (op & has_next & ~next_starts)[:, None] & same_label
                | (is_l & labelled)[None, :] & op[:, None] & same_label
                | (is_u & labelled)[None, :] & (closed & ~space)[:, None]
                | is_o[None, :] & closed[:, None]
            )
            scores[~valid] = -np.inf
            guess = scores.argmax(axis=1)
            kind = self._kind[guess]
            label = move_label[guess]
            begin = np.flatnonzero(kind == 0)
            open_[begin] = True
            ent_start[begin] = t
            ent_label[begin] = label[begin]
            for d in np.flatnonzero(kind == 2):  # L: the open entity ends here
                ents[d].append((int(ent_start[d]), t + 1, int(ent_label[d])))
                open_[d] = False
            for d in np.flatnonzero(kind == 3):  # U: a one-token entity
                ents[d].append((t, t + 1, int(label[d])))
        out: list[list[tuple[int, int, int]]] = [[] for _ in range(n)]
        for pos, d in enumerate(by_len):
            out[d] = ents[pos]
        return out
