"""The taggers' fast scorer (deid.text.crf_marginals): the same marginals as pycrfsuite's Tagger to the last
bit on constructed sequences, on any model `longitude deid train` writes, and on the taggers' real inputs;
a model file it cannot read or a scorer that disagrees is refused, never used."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests.deid.conftest import SHARED

GOLDEN = Path(__file__).parent / "fixtures" / "find_phi_golden.json"


def _reference(tagger, xseq) -> np.ndarray:
    """pycrfsuite's marginals, every label of every token."""
    return tagger._crfsuite_marginals([[a.encode() if isinstance(a, str) else a for a in item] for item in xseq])


def _fast(tagger):
    from deid.text.tagger_features import vocabulary

    known = tagger.known_attributes()
    fast = tagger._scorer(known)
    assert fast is not None, "the shipped models must take the fast path"
    return fast, vocabulary(known)


def _shipped():
    from deid.text.tagger import PLAIN_MODEL_NAME, phi_tagger

    return [phi_tagger(), phi_tagger(PLAIN_MODEL_NAME)]


def test_marginals_equal_crfsuites_on_constructed_sequences():
    """Tokens with many attributes, repeated attributes, attributes no model has, none at all, and a
    sequence of one token: each marginal is pycrfsuite's, bit for bit."""
    from deid.text.crf_marginals import id_matrix

    for tagger in _shipped():
        fast, vocab = _fast(tagger)
        attrs = sorted(tagger.attributes)
        rich = [attrs[(7 * t + 31 * k) % len(attrs)] for t in range(5) for k in range(40)]
        sequences = [
            [rich[i : i + 40] for i in range(0, len(rich), 40)],
            [["b", "w=zzqx-not-a-feature", "b", "b"], [], ["nl", "capsline", "lex=given", "lex=sur", "r=NAME"]],
            [["b", "case=T", "lex=given"]],
            [[attrs[(t * 13) % len(attrs)]] * (t % 4) for t in range(300)],
        ]
        for xseq in sequences:
            ids = id_matrix([[vocab.get(a, 0) for a in item] for item in xseq])
            got, want = fast.marginals(ids), _reference(tagger, xseq)
            assert got.shape == want.shape and np.array_equal(got, want)


def test_the_state_scores_are_summed_in_crfsuites_order():
    """np.add.reduce over the attribute axis adds one attribute after the other (as CRFsuite does): with
    terms whose sum depends on the order, it gives the left-to-right sum, not a pairwise one."""
    rng = np.random.default_rng(7)
    terms = rng.standard_normal((50, 37, 11)) * 10.0 ** rng.integers(-8, 9, (50, 37, 1))
    left_to_right = np.zeros((50, 11))
    for k in range(37):
        left_to_right = left_to_right + terms[:, k]
    assert np.array_equal(np.add.reduce(terms, axis=1), left_to_right)
    assert not np.array_equal(terms.sum(axis=1), terms[:, ::-1].sum(axis=1))  # the order shows in the bits


def _texts_and_hints(texts):
    from deid.text.combine import hints
    from deid.text.recognizers import ClinicalRuleRecognizer

    rules = ClinicalRuleRecognizer()
    return [(t, hints(rules.analyze(t, []))) for t in texts]


def _assert_same_as_crfsuite(pairs, monkeypatch) -> int:
    """Every marginal of both taggers on `pairs` (text, rule hits) as pycrfsuite gives it, and the same
    TaggedText through tag(); the number of tokens compared."""
    from deid.text.crf_marginals import with_rows
    from deid.text.tagger import token_features
    from deid.text.tagger_features import with_hints

    compared = 0
    for tagger in _shipped():
        fast, _ = _fast(tagger)
        known = tagger.known_attributes()
        for text, h in pairs:
            tokens, pieces = token_features(text, known, "ids")
            _, in_bytes = token_features(text, known, "bytes")
            for (lo, hi, base, ids), (_, _, base_bytes, _) in zip(pieces, in_bytes, strict=True):
                piece = tokens[lo:hi]
                near = [x for x in h if x[0] < piece[-1][1] and piece[0][0] < x[1]]
                rows = with_hints(base, piece, near, "ids", known)
                want = tagger._crfsuite_marginals(with_hints(base_bytes, piece, near, "bytes"))
                assert np.array_equal(fast.marginals(with_rows(ids, rows, base)), want)
                compared += hi - lo
        tagged = [tagger.tag(t, h) for t, h in pairs]
        monkeypatch.setattr(tagger, "_scorers", {known: None})  # pycrfsuite's Tagger, as without the fast path
        assert [tagger.tag(t, h) for t, h in pairs] == tagged
        monkeypatch.undo()
    return compared


def test_the_taggers_read_the_same_through_the_fast_path(analyzer, monkeypatch):
    """The golden notes and constructed ones, with and without the rules' hits: both taggers' marginals
    and tag() output are pycrfsuite's."""
    texts = [note["text"] for note in json.loads(GOLDEN.read_text())]
    texts += ["Zoë Müller (daughter) called 3/4 from Hôpital Saint-Louis.\nBP 120/80 | HR 88", "x", "!!", ""]
    pairs = _texts_and_hints(texts)
    assert sum(map(len, (h for _, h in pairs))) > 20
    assert _assert_same_as_crfsuite(pairs + [(t, []) for t in texts], monkeypatch) > 1000


@pytest.mark.slow
def test_the_taggers_read_the_same_through_the_fast_path_on_the_corpora(analyzer, monkeypatch):
    from deid.text.corpora import read_corpus

    phi = SHARED / "phi-annotated"
    sources = [(phi / "physionet-nursing-dev", "physionet", None), (phi / "general-pii-sentences",
               "presidio-research", 300), (SHARED / "notes-mtsamples" / "curated", "brat", 150)]  # fmt: skip
    texts = [d.text for path, fmt, limit in sources if path.exists() for d in read_corpus(path, fmt, limit)]
    if not texts:
        pytest.skip("../shared/data is not here")
    assert _assert_same_as_crfsuite(_texts_and_hints(texts), monkeypatch) > 100_000


def test_a_newly_trained_model_takes_the_fast_path_with_the_same_marginals(tmp_path):
    """Any model file pycrfsuite writes (other labels, other attributes): its weights are read from the
    file, not from the shipped models."""
    import pycrfsuite

    from deid.text.crf_marginals import id_matrix, read_weights, scorer

    trainer = pycrfsuite.Trainer(verbose=False)
    words = ["Okafor", "seen", "on", "7/22", "Lindqvist", "called", "BP", "120"]
    labels = ["B-NAME", "O", "O", "B-DATE", "B-NAME", "O", "O", "O"]
    for shift in range(8):
        xseq = [[f"w={w.lower()}", f"len={len(w)}", "b"] for w in words[shift:] + words[:shift]]
        trainer.append(xseq, labels[shift:] + labels[:shift])
    trainer.set_params({"c2": 0.1, "max_iterations": 30})
    model = tmp_path / "m.crfsuite"
    trainer.train(str(model))
    tagger = pycrfsuite.Tagger()
    tagger.open(str(model))
    weights = read_weights(model)
    assert weights.labels == tuple(tagger.labels())
    info = tagger.info()
    assert {a: str(i) for i, a in enumerate(weights.attributes)} == info.attributes
    for (attr, label), w in info.state_features.items():  # the dump rounds to six places
        assert weights.state[weights.attributes.index(attr), weights.labels.index(label)] == pytest.approx(
            w, abs=1e-6
        )
    vocab = {a: i for i, a in enumerate(sorted(weights.attributes), start=1)}
    fast = scorer(model, vocab, tagger)
    xseq = [["w=okafor", "len=6", "b", "w=unknown"], ["b"], ["w=7/22", "len=4", "b", "b"]]
    tagger.set(xseq)
    want = np.array([[tagger.marginal(label, t) for label in weights.labels] for t in range(3)])
    assert np.array_equal(fast.marginals(id_matrix([[vocab.get(a, 0) for a in item] for item in xseq])), want)


def test_a_scorer_that_disagrees_is_refused_with_a_warning(monkeypatch):
    """One weight off by a last bit is enough for the load-time check to keep pycrfsuite's Tagger."""
    from deid.text import crf_marginals
    from deid.text.tagger_features import vocabulary

    tagger = _shipped()[0]
    read = crf_marginals.read_weights

    def off_by_a_bit(path):
        weights = read(path)
        weights.state[0] = np.nextafter(weights.state[0], np.inf)
        return weights

    monkeypatch.setattr(crf_marginals, "read_weights", off_by_a_bit)
    with pytest.warns(crf_marginals.FastTaggerWarning, match="differ from pycrfsuite"):
        assert (
            crf_marginals.scorer(tagger.model_path, vocabulary(tagger.known_attributes()), tagger._tagger) is None
        )


def test_a_file_that_is_no_crfsuite_model_is_named_in_the_error(tmp_path):
    from deid.text.crf_marginals import read_weights

    for name, data in (
        ("empty.crfsuite", b""),
        ("other.crfsuite", b"lCRF" + bytes(60)),
        ("text.crfsuite", b"x" * 99),
    ):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=rf"{name}: cannot read the CRFsuite model"):
            read_weights(tmp_path / name)
