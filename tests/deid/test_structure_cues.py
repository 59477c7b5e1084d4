"""PHI read from the structure around it (a move, a residence, a street number and type, a state's code, a
notification, a signature), one constructed sentence per form, beside clinical text of the same shape that
must survive."""

import pytest

from deid.text.shorthand_rules import person_word
from tests.deid.phi_marks import covered, marked


@pytest.mark.parametrize(
    ("text", "phi"),
    [
        # initials that are also English or clinical words, after a notification
        ("BP 88/40.\nnotified MB RN of new afib.", "MB"),
        ("PAGED HN NP RE: BP.", "HN"),
        # a hospital's initials before its emergency ward, or with a length of stay
        ("TRANSFERRED FROM SBW ER FOR NSTEMI.", "SBW"),
        ("was at bmc x 4 days prior to transfer.", "bmc"),
        ("transferred from hillcrest general er for cath.", "hillcrest general"),
        ("PT WAS AT ST. JUDE'S X 2 DAYS.", "ST. JUDE'S"),
        # a street whose words are English ones, after a home's cue
        ("HOME ADDRESS: 310 ORCHARD LANE.", "310 ORCHARD LANE"),
        ("found at home (7 birch st) by son.", "7 birch st"),
        ("LIVES AT 52 FOUNDRY RD WITH WIFE.", "52 FOUNDRY RD"),
        # a small town no gazetteer holds: after residence, at a line's start after from, before a state's code
        ("LIVES ALONE IN WESTERLO.", "WESTERLO"),
        ("From Kodiak, retired fisherman.", "Kodiak"),
        ("pt lives in Marfa, TX with wife.", "Marfa"),
        ("from dalhart, tx, retired.", "dalhart"),
        # a family name that is also an English word, after d/w
        ("d/w HARLAN from renal.", "HARLAN"),
        # joined names: apostrophes after any particle, hyphens of short parts, particles before a surname
        ("/s/ Ayodele Dell'Anno, RN", "Ayodele Dell'Anno"),
        ("spoke with xiu-li re: plan.", "xiu-li"),
        ("SPOKE WITH JO-ANN EL-HASSAN RE: DISPO.", "JO-ANN EL-HASSAN"),
        ("sw o'rourke following.", "o'rourke"),
        # a relative's given name after a comma, when it is written as one or listed as one
        ("Son, Ed, at bedside.", "Ed"),
        ("WIFE, MARGUERITE, CALLED FOR UPDATE.", "MARGUERITE"),
        # initials a patient is moved from into a care unit, whatever else they abbreviate
        ("TRANSFERRED FROM KB TO MICU FOR HYPOTENSION.", "KB"),
        ("transferred from dm to the ccu.", "dm"),
        # an English word as a town after a journey's cue, in any case
        ("DAUGHTER FLYING IN FROM ORCHARD TOMORROW.", "ORCHARD"),
        ("originally from meadow, retired.", "meadow"),
    ],
)
def test_phi_read_from_its_structure_iscovered(analyzer, text, phi):
    assert covered(text, phi)


@pytest.mark.parametrize(
    ("text", "clinical"),
    [
        ("NOTIFIED PT RN OF TRANSFER.", "PT"),
        ("notified ld rn of labs.", "ld"),
        ("NEW PIV, notified IV RN of infiltrate.", "IV"),
        ("notified the RN of the change.", "the"),
        ("TRANSFERRED FROM OSH ER.", "OSH"),
        ("seen in the ER x 2 hrs.", "ER"),
        ("IN ICU X 3 DAYS.", "ICU"),
        ("was at NH x 2 yrs.", "NH"),
        ("lives at home with 2 L NC.", "2 L NC"),
        ("home: 3 steps to enter, no rails.", "3 steps"),
        ("lives in assisted living with dtr.", "assisted living"),
        ("weaned from cpap, tol well.", "cpap"),
        ("From home, ok.", "home"),
        ("transferred from OR, MD aware.", "OR"),
        ("pain in back, tx with tylenol.", "back"),
        ("spoke with son-in-law re: plan.", "son-in-law"),
        ("spoke with ex-wife re: plan.", "ex-wife"),
        ("d/w fellow from renal.", "fellow"),
        ("d/w team from renal.", "team"),
        ("pt to have x-ray today.", "x-ray"),
        ("started on st john's wort at home.", "john's"),
        ("enjoys time with mother, reading, baking.", "reading"),
        ("TRANSFERRED FROM CT TO MICU.", "CT"),
        ("sent from IR to the ICU.", "IR"),
        ("transferred from BR to chair.", "BR"),
        ("TRANSFERRED FROM OSH TO CCU.", "OSH"),
        ("wife driving in from work tonight.", "work"),
        ("SON FLYING IN FROM ABROAD TOMORROW.", "ABROAD"),
        ("dtr coming from church, aware.", "church"),
    ],
)
def test_clinical_text_of_the_same_shape_survives(analyzer, text, clinical):
    assert not marked(text, clinical)


@pytest.mark.parametrize("word", ["O'Rourke", "Dell'Anno", "Jo-Ann", "Xiu-Li", "El-Hassan", "Bui-Tran"])
def test_joined_names_are_person_words(word):
    assert person_word(word)


@pytest.mark.parametrize(
    "word", ["son-in-law", "ex-wife", "x-ray", "follow-up", "re-intubated", "o'clock", "pt's"]
)
def test_joined_words_of_the_dictionary_are_not(word):
    assert not person_word(word)
