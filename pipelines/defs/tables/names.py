"""The tables stage's asset name, apart from its engine: the code location loads without importing the engine."""

ASSET = "tables_raw"
