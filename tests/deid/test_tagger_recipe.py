"""The tagger's recipe stays pinned to what the shipped models were trained on: the training data it makes
(per source and in all), the lexicons the features read, and a documented threshold for every type; a card
the code contradicts warns when the model loads."""

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import pytest

from deid.text.tagger import MODEL_DIR, MODEL_NAME, PLAIN_MODEL_NAME, TYPES, PhiTagger
from deid.text.tagger_card import TaggerCardWarning, card_problems
from deid.text.tagger_features import lexicon_fingerprint
from deid.text.tagger_train import (
    RECIPE,
    THRESHOLDS_DOC,
    TrainingDoc,
    bio,
    data_digest,
    drifted,
    sources,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "deidentification.md"
CARDS = {name: json.loads((MODEL_DIR / f"{name}.json").read_text()) for name in (MODEL_NAME, PLAIN_MODEL_NAME)}


def test_the_shipped_cards_carry_the_code_recipe_and_its_pins():
    for name, card in CARDS.items():
        assert card["recipe"] == RECIPE, name
        pinned = {k: v["sha256_16"] for k, v in card["training"]["sources"].items()}
        assert pinned == RECIPE["data_sha256_16"], name
        assert {k: v["sequences"] for k, v in card["training"]["sources"].items()} == card["training"]["by_source"]
    # the recipe pins every source it draws on: corpora (negative lines as `negative`), the generator and,
    # where the recipe names it, the nursing generator
    names = {"negative" if c["format"] == "negative-lines" else c["name"] for c in RECIPE["corpora"]}
    assert set(RECIPE["data_sha256_16"]) == names | {"generator"} | ({"nursing"} & set(RECIPE))


@pytest.fixture(scope="module")
def generator_notes() -> list[TrainingDoc]:
    from pipelines.commands.deid import recipe_generator_notes

    return recipe_generator_notes(RECIPE["generator"])


def test_the_generator_part_makes_the_pinned_notes(generator_notes):
    """The generator's notes of the recipe (40 patients, seed 14) are what the shipped models saw: a change
    to the generator that alters them fails here, not silently in the next retrain."""
    made = sources(generator_notes)["generator"]
    assert made == CARDS[MODEL_NAME]["training"]["sources"]["generator"]
    assert made["sha256_16"] == RECIPE["data_sha256_16"]["generator"]


@pytest.mark.skipif(not (DATA / "phi-annotated").exists(), reason="needs the shared data folder (../shared/data)")
def test_the_recipe_makes_the_shipped_training_data():
    from deid.text.tagger_features import tokenize
    from pipelines.commands.deid import recipe_training_docs

    docs = recipe_training_docs(DATA)
    assert drifted(docs) == []
    training = CARDS[MODEL_NAME]["training"]
    assert data_digest(docs) == training["data_sha256_16"] == CARDS[PLAIN_MODEL_NAME]["training"]["data_sha256_16"]
    assert len(docs) == training["sequences"]
    assert sum(len(tokenize(d.text)) for d in docs) == training["tokens"]
    # the plain model reads no rule: the recipe's data and feature code give exactly its CRF input, so a
    # change to the features (or the lexicons) that would make another model fails here
    given = hashlib.sha256()
    for d in docs:
        given.update(json.dumps(bio(d, rule_features=False)).encode())
    assert given.hexdigest()[:16] == CARDS[PLAIN_MODEL_NAME]["training"]["input_sha256_16"]


def test_drift_names_the_source_and_digests_only():
    docs = [TrainingDoc("Seen by Dr. Okafor.", ((12, 18, "NAME"),), "generator"),
            TrainingDoc("Abdomen soft.", (), "negative")]  # fmt: skip
    pins = {k: v["sha256_16"] for k, v in sources(docs).items()}
    recipe = {**RECIPE, "data_sha256_16": pins}
    assert drifted(docs, recipe) == []
    moved = [TrainingDoc("Seen by Dr. Okafor.", ((12, 19, "NAME"),), "generator"), docs[1]]
    (line,) = drifted(moved, recipe)
    assert line.startswith("generator: 1 sequences") and "generator's notes changed" in line
    assert "Okafor" not in line
    assert drifted(docs[:1], recipe)[0].startswith("negative: 0 sequences")  # a source that made nothing
    assert drifted(moved, {**RECIPE, "data_sha256_16": {}}) == []  # a recipe that pins nothing (under test)


def test_the_lexicons_are_those_the_shipped_models_were_trained_on():
    """A lexicon edit changes what the models' features read: retrain (the card's fingerprint says which
    lexicons they were trained on)."""
    for name, card in CARDS.items():
        assert card["lexicon_fingerprint"] == lexicon_fingerprint(), name


def test_a_card_the_code_contradicts_warns_and_the_model_still_loads(tmp_path):
    for suffix in (".crfsuite", ".json"):
        shutil.copy(MODEL_DIR / f"{MODEL_NAME}{suffix}", tmp_path / f"m{suffix}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", TaggerCardWarning)
        PhiTagger.load("m", tmp_path)  # the shipped card: no warning
    card = json.loads((tmp_path / "m.json").read_text())
    card["lexicon_fingerprint"] = "0" * 16
    del card["thresholds"]["AGE"]
    (tmp_path / "m.json").write_text(json.dumps(card))
    with pytest.warns(TaggerCardWarning) as caught:
        tagger = PhiTagger.load("m", tmp_path)
    messages = [str(w.message) for w in caught]
    assert any("fingerprint 0000000000000000" in m and str(tmp_path / "m.json") in m for m in messages)
    assert any("no threshold for AGE" in m for m in messages)
    assert tagger.tag("HUSBAND JOHN CALLED 7/22").tokens
    (tmp_path / "m.json").unlink()
    with pytest.warns(TaggerCardWarning, match="missing or empty"):
        PhiTagger.load("m", tmp_path)


def test_every_type_has_a_documented_threshold_on_the_card_and_in_the_docs():
    doc = DOCS.read_text()
    for name, card in CARDS.items():
        assert card_problems(card, MODEL_DIR / f"{name}.json", TYPES) == []
        assert set(card["thresholds"]) == set(TYPES), name
        assert card["thresholds_doc"] == THRESHOLDS_DOC
        for type_, value in card["thresholds"].items():
            row = f"| {type_} | {value} |" if name == MODEL_NAME else f"| plain {type_} | {value} |"
            assert row in doc or (value > 1 and "turns a type off" in THRESHOLDS_DOC), (name, type_)
