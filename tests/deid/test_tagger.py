"""The learned PHI tagger: the PhysioNet reader and the patient split, training and loading the CRF, the
shipped artifact and its card, the combination with the rules, the error report and the CLI."""

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from deid.text.corpora import GoldSpan, in_check_part, read_corpus, select_part
from deid.text.error_report import error_report, false_alarm_class, shape
from deid.text.scoring import Span

DOCS = Path(__file__).resolve().parents[2] / "docs" / "deidentification.md"

_NOTES = [
    ("5", "1", "Pt seen by Dr. Okafor 7/22, husband Tomas at bedside.\nBP 120/80.", ["Okafor", "7/22", "Tomas"]),
    ("5", "2", "TRANSFERRED TO QUARTERMAIN 2 ON 8/3. K 4.1", ["QUARTERMAIN", "8/3"]),
    ("17", "1", "dtr Ines called from Rome (617) 555-0101.", ["Ines", "Rome", "(617) 555-0101"]),
]
_TYPES = {"Okafor": "HCPName", "Tomas": "RelativeProxyName", "Ines": "RelativeProxyName", "Rome": "Location",
          "QUARTERMAIN": "Location", "(617) 555-0101": "Phone"}  # fmt: skip


def _physionet_tree(folder: Path) -> Path:
    """A corpus in the PhysioNet deid layout, written here (gold offsets computed from the text)."""
    folder.mkdir(parents=True, exist_ok=True)
    records, phrases = [], []
    for patient, note, body, values in _NOTES:
        records.append(f"START_OF_RECORD={patient}||||{note}||||\n{body}\n||||END_OF_RECORD\n")
        for v in values:
            start = body.index(v)
            phrases.append(f"{patient} {note} {start} {start + len(v)} {_TYPES.get(v, 'Date')} {v}")
    (folder / "id.text").write_text("".join(records))
    (folder / "id-phi.phrase").write_text("\n".join(phrases) + "\n")
    return folder


def test_physionet_reader_and_the_patient_split(tmp_path):
    docs = read_corpus(_physionet_tree(tmp_path / "pn"), "physionet")
    assert [d.doc_id for d in docs] == ["5/1", "5/2", "17/1"] and docs[2].subject == "17"
    for d, (_, _, body, values) in zip(docs, _NOTES, strict=True):
        assert d.text == body + "\n"
        assert [d.text[s.start : s.end] for s in d.spans] == sorted(values, key=body.index)
    assert docs[0].spans[0] == GoldSpan(15, 21, "HCPName")
    # the split is by patient and fixed by the hash of the id, whatever else is in the corpus
    assert in_check_part("17") and not in_check_part("5")
    assert in_check_part("17") == (int(hashlib.sha256(b"17").hexdigest(), 16) % 3 == 0)
    assert [d.doc_id for d in select_part(docs, "check")] == ["17/1"]
    assert [d.doc_id for d in select_part(docs, "tuning")] == ["5/1", "5/2"]
    assert len(select_part(docs, "all")) == 3
    with pytest.raises(ValueError, match="unknown part"):
        select_part(docs, "test")


def test_physionet_reader_names_the_line_of_a_span_that_does_not_match(tmp_path):
    folder = _physionet_tree(tmp_path / "pn")
    lines = (folder / "id-phi.phrase").read_text().splitlines()
    lines[1] = lines[1].replace(" 22 ", " 23 ", 1) if " 22 " in lines[1] else lines[1].replace("7/22", "7/23")
    (folder / "id-phi.phrase").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"id-phi\.phrase:2") as err:
        read_corpus(folder, "physionet")
    assert "7/2" not in str(err.value)  # the error names file and line, never the value


def test_a_small_crf_trains_loads_and_tags_offline(tmp_path):
    from deid.text.tagger import PhiTagger
    from deid.text.tagger_train import TrainingDoc, train, write_card

    names = ["Okafor", "Lindqvist", "Moreau", "Haddad", "Brennan", "Kowalski", "Nakamura", "Ferreira"]
    docs = []
    for i, name in enumerate(names):
        text = f"Seen by Dr. {name} on {i + 1}/1{i}. BP 120/80, HR {60 + i}."
        s = text.index(name)
        d = text.index(f"{i + 1}/1{i}")
        docs.append(TrainingDoc(text, ((s, s + len(name), "NAME"), (d, d + len(f"{i + 1}/1{i}"), "DATE")), "t"))
    model = tmp_path / "m.crfsuite"
    facts = train(docs, model)
    assert facts["sequences"] == len(docs) and model.stat().st_size > 0
    card = write_card(model, docs, facts, dict.fromkeys(("NAME", "DATE", "LOCATION", "CONTACT", "ID", "AGE"), 0.5))
    assert card["model_sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    tagger = PhiTagger.load("m", tmp_path)
    text = "Seen by Dr. Petrov on 9/14. BP 118/76, HR 72."
    found = {(text[s:e], t) for s, e, t, _ in tagger.spans(text)}
    assert ("Petrov", "NAME") in found
    assert not any(t == "NAME" and v in ("BP", "HR", "Seen") for v, t in found)


def test_the_shipped_tagger_loads_and_its_card_matches():
    from deid.text.tagger import MODEL_DIR, MODEL_NAME, TYPES, PhiTagger

    model = MODEL_DIR / f"{MODEL_NAME}.crfsuite"
    card = json.loads(model.with_suffix(".json").read_text())
    assert card["model_sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert model.stat().st_size < 2_000_000
    tagger = PhiTagger.load()
    assert set(tagger.thresholds) >= set(TYPES)
    # every type's threshold and every veto is documented where users read about thresholds
    doc = DOCS.read_text()
    for type_, value in card["thresholds"].items():
        assert f"| {type_} | {value} |" in doc
    for key, value in card["veto"].items():
        assert f"| `{key}` | {value} |" in doc
    plain = json.loads((MODEL_DIR / "phi_crf_v1_plain.json").read_text())
    assert (
        plain["model_sha256"] == hashlib.sha256((MODEL_DIR / "phi_crf_v1_plain.crfsuite").read_bytes()).hexdigest()
    )
    for type_, value in plain["thresholds"].items():
        assert value > 1 or f"| plain {type_} | {value} |" in doc
    tagged = tagger.tag("HUSBAND JOHN CALLED 7/22, BP 120/80")
    assert len(tagged.tokens) == len(tagged.probs)


def test_the_tagger_reads_the_same_with_only_the_attributes_it_knows(analyzer, monkeypatch):
    """Features the models have no weight for are not built (CRFsuite skips them): the same marginals,
    to the last bit, as with every feature, with and without the rules' hits."""
    from deid.text.combine import hints
    from deid.text.recognizers import ClinicalRuleRecognizer
    from deid.text.tagger import PLAIN_MODEL_NAME, phi_tagger, token_features

    golden = Path(__file__).parent / "fixtures" / "find_phi_golden.json"
    texts = [note["text"] for note in json.loads(golden.read_text())][:10]
    rule_hits = [hints(ClinicalRuleRecognizer().analyze(t, [])) for t in texts]
    assert sum(map(len, rule_hits)) > 10
    for tagger in (phi_tagger(), phi_tagger(PLAIN_MODEL_NAME)):
        known = tagger.known_attributes()
        assert tagger.attributes <= known
        kept = sum(len(f) for t in texts for _, _, base, _ in token_features(t, known)[1] for f in base)
        every = sum(len(f) for t in texts for _, _, base, _ in token_features(t)[1] for f in base)
        assert kept < 0.9 * every  # something is left out
        lean = [tagger.tag(t, h) for t, h in zip(texts, rule_hits, strict=True)]
        monkeypatch.setattr(tagger, "known_attributes", lambda: None)
        full = [tagger.tag(t, h) for t, h in zip(texts, rule_hits, strict=True)]
        monkeypatch.undo()
        assert lean == full and any(p for tagged in full for p in tagged.probs)


def test_the_tagger_vetoes_ambiguous_rule_hits_only():
    from presidio_analyzer import RecognizerResult

    from deid.text.combine import combine
    from deid.text.tagger import TaggedText

    tagged = TaggedText([(0, 3), (4, 8)], [{}, {"NAME": 0.9}], [{}, {"NAME": 0.9}])

    def hit(start, end, label, source):
        return RecognizerResult(label, start, end, 0.8, recognition_metadata={"recognizer_name": source})

    results = [hit(0, 3, "NAME", "shape"), hit(4, 8, "NAME", "shape"), hit(0, 3, "ZIP", "five_digits"),
               hit(0, 3, "NAME", "known"), hit(0, 3, "DATE", "date_numeric"), hit(9, 12, "NAME", "spacy")]  # fmt: skip
    veto = {"shape": 0.2, "pattern:ZIP": 0.3, "spacy:NAME": 0.5}
    kept = combine(results, tagged, veto)
    assert [(r.start, r.entity_type, r.recognition_metadata["recognizer_name"]) for r in kept] == [
        (4, "NAME", "shape"),  # the tagger agrees
        (0, "NAME", "known"),  # the subject's own record always stands
        (0, "DATE", "date_numeric"),  # no veto for dates here
    ]
    # a hit scored `strong` or more stands on its own
    assert len(combine(results, tagged, veto, strong=0.8)) == 6
    # the shape pass and the NER model agreeing on a name: it stands
    both = [hit(9, 12, "NAME", "spacy"), hit(9, 13, "NAME", "shape")]
    assert len(combine(both, tagged, veto)) == 2


def test_the_tagger_adds_only_what_lies_outside_kept_rule_hits():
    from presidio_analyzer import RecognizerResult

    from deid.text.combine import outside

    text = "ON 7/22-7/24 seen by John Smith, ZIP 02115"

    def at(value, label, source):
        s = text.index(value)
        return RecognizerResult(label, s, s + len(value), 0.9, recognition_metadata={"recognizer_name": source})

    kept = [at("7/22", "DATE", "p"), at("7/24", "DATE", "p"), at("Smith", "NAME", "p"), at("02115", "ZIP", "p")]
    added = [
        at("7/22-7/24", "DATE", "tagger"),
        at("John Smith", "NAME", "tagger"),
        at("ZIP 02115", "LOCATION", "tagger"),
    ]
    got = [(text[r.start : r.end], r.entity_type) for r in outside(text, added, kept)]
    assert got == [("John", "NAME")]  # a range stays two dates; "ZIP" is the rule's context


def test_error_report_groups_misses_by_shape_and_false_alarms_by_class():
    assert shape("7/22") == "9/9" and shape("QUARTERMAIN") == "A"
    assert false_alarm_class("", "10:30") == "time"
    assert false_alarm_class("", "120/80") == "vital-sign or lab range"
    assert false_alarm_class("", "4.1") == "number or lab value"
    assert false_alarm_class("", "CHF") == "clinical abbreviation"
    text = "Dr. Okafor saw pt at 10:30, K 4.1"
    gold = [Span(4, 10, "NAME")]
    pred = [Span(21, 26, "DATE"), Span(30, 33, "ZIP")]
    rep = error_report([text], [gold], [pred])
    assert rep["misses"] == {"NAME": {"Aa": 1}}
    assert rep["false_alarms"] == {"time": {"DATE": 1}, "number or lab value": {"ZIP": 1}}
    assert "miss_examples" not in rep  # misses are PHI: quoted only when asked


def test_cli_eval_physionet_check_part_with_error_report(analyzer, tmp_path):
    from pipelines.cli import cli

    corpus = _physionet_tree(tmp_path / "pn")
    md, out = tmp_path / "errors.md", tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["deid", "eval", "--corpus", str(corpus), "--format", "physionet",
                                      "--part", "check", "--system", "longitude", "--errors", str(md),
                                      "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["corpus"]["notes"] == 1 and report["corpus"]["part"] == "check"
    assert report["systems"]["longitude"]["over_redaction"]["words"] > 0
    assert "### Misses" in md.read_text()


def test_cli_train_says_what_it_needs(tmp_path):
    from pipelines.cli import cli

    result = CliRunner().invoke(cli, ["deid", "train", "--data", str(tmp_path / "nowhere")])
    assert result.exit_code != 0
    assert "physionet-nursing-dev" in result.output and "--data" in result.output


def test_cli_train_rebuilds_both_models_from_the_recipe(analyzer, tmp_path, monkeypatch):
    """The whole `deid train` path on a small recipe: corpora by part, negative lines, generator notes,
    nursing generator notes, rule hints, the stacked and the plain model with their cards."""
    import deid.text.tagger_train as tt
    from pipelines.cli import cli
    from pipelines.commands.deid import recipe_training_docs

    data = tmp_path / "data"
    _physionet_tree(data / "pn")
    (data / "neg").mkdir()
    (data / "neg" / "a.txt").write_text("The abdomen is soft and nontender without rebound.\n" * 3)
    recipe = {**tt.RECIPE, "corpora": [
        {"name": "pn", "format": "physionet", "path": "pn", "part": "tuning", "repeat": 1},
        {"name": "neg", "format": "negative-lines", "path": "neg", "part": "all", "lines": 2},
    ], "generator": {"patients": 1, "seed": 3, "repeat": 1}, "nursing": {"notes": 2, "seed": 3},
        "crf": {**tt.RECIPE["crf"], "max_iterations": 5}}  # fmt: skip
    made = recipe_training_docs(data, recipe)
    pins = {k: v["sha256_16"] for k, v in tt.sources(made).items()}
    out = tmp_path / "models"
    # data other than the recipe pins: it says which source moved and trains nothing
    monkeypatch.setattr(tt, "RECIPE", {**recipe, "data_sha256_16": {**pins, "pn": "0" * 16}})
    result = CliRunner().invoke(cli, ["deid", "train", "--data", str(data), "--out-dir", str(out)])
    assert result.exit_code != 0 and "pn: 2 sequences" in result.output and not out.exists()
    recipe["data_sha256_16"] = pins
    monkeypatch.setattr(tt, "RECIPE", recipe)
    result = CliRunner().invoke(cli, ["deid", "train", "--data", str(data), "--out-dir", str(out)])
    assert result.exit_code == 0, result.output
    for name in (recipe["name"], recipe["plain"]["name"]):
        card = json.loads((out / f"{name}.json").read_text())
        assert card["name"] == name
        assert card["model_sha256"] == hashlib.sha256((out / f"{name}.crfsuite").read_bytes()).hexdigest()
        assert card["training"]["by_source"]["pn"] == 2  # patient 5's two notes: the tuning part only
        assert card["training"]["by_source"]["negative"] == 2 and card["training"]["by_source"]["generator"] > 0
        assert card["training"]["by_source"]["nursing"] == 2
        assert {k: v["sha256_16"] for k, v in card["training"]["sources"].items()} == pins
    assert json.loads((out / f"{recipe['name']}.json").read_text())["veto"] == recipe["veto"]


def test_the_taggers_features_in_bytes_are_the_text_features_encoded(analyzer):
    """What the taggers hand CRFsuite (base_features and with_hints in UTF-8 bytes, which it reads without
    converting) is the str features encoded one for one, in order, with and without the rules' hits and
    with or without the models' attribute filter: the same attributes, so the same marginals."""
    from deid.text.combine import hints
    from deid.text.recognizers import ClinicalRuleRecognizer
    from deid.text.tagger import phi_tagger
    from deid.text.tagger_features import base_features, tokenize, with_hints

    golden = Path(__file__).parent / "fixtures" / "find_phi_golden.json"
    texts = [note["text"] for note in json.loads(golden.read_text())][:5]
    texts.append("Zoë Müller (daughter) called on 3/4; seen at Hôpital Saint-Louis, Ørsted ward.\nBP 120/80")
    for text in texts:
        tokens = tokenize(text)
        rule_hits = hints(ClinicalRuleRecognizer().analyze(text, []))
        for known in (None, phi_tagger().known_attributes()):
            for h in (rule_hits, []):
                as_text = with_hints(base_features(text, tokens, known), tokens, h)
                as_bytes = with_hints(base_features(text, tokens, known, "bytes"), tokens, h, "bytes")
                assert [list(token) for token in as_bytes] == [[f.encode() for f in token] for token in as_text]
                assert all(isinstance(f, bytes) for token in as_bytes for f in token)
    assert any(hints(ClinicalRuleRecognizer().analyze(t, [])) for t in texts)


def test_word_pair_features_are_those_the_model_knows(analyzer):
    """With a model's attributes, a token keeps exactly the word-pair features ("bi=a|b") of the unfiltered
    features that the model knows, also where a word is "|" itself (the pair lookup files a feature under
    every split at a bar)."""
    from deid.text.tagger import phi_tagger
    from deid.text.tagger_features import base_features, tokenize

    texts = [
        "Pt seen by Dr. Okafor 7/22, husband at bedside.\nBP 120/80 | HR 88 || RR 18 |a| b|",
        "RESP: | LS CLEAR | SX Q2H | PLAN: CONT TO MONITOR",
    ]
    shipped = phi_tagger().known_attributes()
    constructed = frozenset(
        {"bi=|||", "bi=||hr", "bi=88||", "bi=||a", "bi=a||", "bi=|||a", "bi=seen|by", "w=seen"}
    )
    for known in (shipped, constructed, shipped | constructed):
        for text in texts:
            tokens = tokenize(text)
            full = base_features(text, tokens)
            kept = base_features(text, tokens, known)
            for every, some in zip(full, kept, strict=True):
                pairs = [f for f in every if f.startswith("bi=")]
                assert [f for f in some if f.startswith("bi=")] == [f for f in pairs if f in known]
    found = {f for text in texts for token in base_features(text, tokenize(text), constructed) for f in token}
    assert {"bi=|||", "bi=||hr", "bi=88||", "bi=seen|by"} <= found  # the bar pairs were there to find


def test_line_flags_follow_each_tokens_line():
    """nl (first on its line), nl+1 (the next token first on its line) and capsline (its line ALL CAPS), as
    read token by token, on blank lines, lines without tokens, a last line without a break and one token
    lines."""
    from deid.text.tagger_features import _is_caps_line, base_features, tokenize

    texts = [
        "A\n\nPT SEEN BY DR ADAMS TODAY\n   \nseen again x\nB C\n",
        "one",
        "\n\nHR 88 BP 120/80\nAWAKE ALERT AND ORIENTED X3\nz",
        "Pt resting.\nRESP: LS CLEAR BILAT, SX FOR THICK SPUTUM\n\n\nplan: cont",
    ]
    for text in texts:
        tokens = tokenize(text)
        line = [text.count("\n", 0, s) for s, _ in tokens]
        caps = [_is_caps_line(text.split("\n")[k]) for k in line]
        for i, feats in enumerate(base_features(text, tokens)):
            first = i == 0 or line[i] != line[i - 1]
            next_first = i + 1 < len(tokens) and line[i + 1] != line[i]
            assert ("nl" in feats, "nl+1" in feats, "capsline" in feats) == (first, next_first, caps[i]), (text, i)
    assert any("capsline" in f for f in base_features(texts[0], tokenize(texts[0])))
