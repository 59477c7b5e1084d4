"""Code descriptions and parents from a mapping's vocabulary tables (OMOP concept and its links, a dictionary)."""

from typing import TYPE_CHECKING

import polars as pl

from pipelines.defs.tables.exprs import template, template_columns
from pipelines.defs.tables.read import table_files

if TYPE_CHECKING:
    from pipelines.defs.tables.engine import _Run


def code_metadata(run: "_Run", codes: pl.Series) -> pl.DataFrame:
    """Descriptions and parent codes from the mapping's vocabulary tables, for the codes the events use."""
    empty = pl.DataFrame(schema={"code": pl.String, "description": pl.String, "parent_codes": pl.List(pl.String)})
    frames = []
    present = codes.unique().implode()
    for i, v in enumerate(run.m.vocabulary):
        df = run.table(v.table, full=True)
        if v.table in run.absent:
            continue
        cols = [
            *template_columns(v.code),
            *[c for c in (v.description, v.id) if c],
            *template_columns(v.parent or ""),
        ]
        if not run.require(df, cols, ("vocabulary", i), v.table, f"vocabulary[{i}]"):
            continue
        concepts = df.select(
            template(v.code, run.m.maps).alias("code"),
            (pl.col(v.description).cast(pl.String) if v.description else pl.lit(None, pl.String)).alias(
                "description"
            ),
            (pl.col(v.id).cast(pl.String) if v.id else pl.lit(None, pl.String)).alias("id"),
            (template(v.parent, run.m.maps) if v.parent else pl.lit(None, pl.String)).alias("parent"),
        ).drop_nulls("code")
        used = concepts.filter(pl.col("code").is_in(present)).unique("code", keep="first", maintain_order=True)
        run.stats[f"vocabulary.{i}"] = {"rows": concepts.height, "matched": used.height}
        parents = used.select("code", pl.col("parent").alias("parent_code")).drop_nulls()
        if v.parents is not None:
            parents = pl.concat([parents, _parent_links(run, i, v, concepts, used)])
        parent_lists = (
            parents.unique()
            .sort("code", "parent_code")
            .group_by("code", maintain_order=True)
            .agg(pl.col("parent_code").alias("parent_codes"))
        )
        frames.append(used.select("code", "description").join(parent_lists, on="code", how="left"))
    if not frames:
        return empty
    return pl.concat(frames).unique("code", keep="first", maintain_order=True).sort("code")


def _parent_links(run: "_Run", i: int, v, concepts: pl.DataFrame, used: pl.DataFrame) -> pl.DataFrame:
    """child code -> parent code through an id link table, read only for the ids the events use.

    Link tables are the largest of a vocabulary (OMOP concept_relationship: tens of millions of rows), so they
    are scanned lazily and filtered to the events' ids while reading, never held whole.
    """
    pt = v.parents
    empty = pl.DataFrame(schema={"code": pl.String, "parent_code": pl.String})
    links = _scan(run, pt.table)
    if links is None:
        return empty
    header = pl.DataFrame(schema=links.collect_schema())
    loc = ("vocabulary", i, "parents")
    if not run.require(header, [pt.child, pt.parent], loc, pt.table, f"vocabulary[{i}].parents"):
        return empty
    ids = used.select(pl.col("id"), "code").drop_nulls()
    links = links.filter(pl.col(pt.child).is_in(ids["id"].unique().implode()))
    if pt.where:
        links = links.filter(pl.sql_expr(pt.where).fill_null(False))
    child = links.select(pl.col(pt.child).alias("id"), pl.col(pt.parent).alias("pid")).collect()
    child = child.join(ids, on="id")
    by_id = (
        concepts.select(pl.col("id").alias("pid"), pl.col("code").alias("parent_code")).drop_nulls().unique("pid")
    )
    return child.join(by_id, on="pid", how="inner").select("code", "parent_code")


def _scan(run: "_Run", name: str) -> pl.LazyFrame | None:
    """A table's files as one lazy all-string frame (renames applied), for filtered reads of big dictionaries."""
    spec = run.m.tables[name]
    files = table_files(run.dir, spec)
    if not files:
        if not spec.optional:
            run.problem(f"{run.m.where('tables', name)}: table {name!r} has no file matching {spec.file!r}")
        return None
    frames = []
    for f in files:
        lower = f.name.lower()
        if lower.endswith(".parquet"):
            lf = pl.scan_parquet(f).select(pl.all().cast(pl.String))
        else:
            sep = "\t" if lower.endswith((".tsv", ".tsv.gz")) else spec.separator
            lf = pl.scan_csv(f, separator=sep, infer_schema=False)
        names = lf.collect_schema().names()
        frames.append(lf.rename({k: v for k, v in spec.columns.items() if k in names}))
    return pl.concat(frames, how="diagonal_relaxed")
