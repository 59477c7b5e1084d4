"""Everything a root's structured records know about all of its patients, as one deny list for notes."""

from dataclasses import dataclass

from deid.text.root_identifiers import RootIdentifiers
from deid.text.root_names import RootNames
from deid.text.spans import PhiSpan


@dataclass(frozen=True, slots=True)
class RootPhi:
    """Every patient's names (deid.text.root_names) and identifiers, phones, e-mails and street lines
    (deid.text.root_identifiers): a note naming or numbering another patient of the root loses it."""

    names: RootNames
    identifiers: RootIdentifiers

    def spans(self, text: str) -> list[PhiSpan]:
        return [*self.names.spans(text), *self.identifiers.spans(text)]
