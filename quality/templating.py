"""The Jinja2 environment for the quality package's pages (site, timelines) and its filters, in one place."""

import re
from functools import cache


@cache
def environment():
    """The Jinja2 environment: autoescaped, templates shipped in the quality package."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("quality", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["anchor"] = anchor
    return env


def anchor(target: str) -> str:
    """An HTML id for a review target.

    >>> anchor("check:meds_data.plausibility/no_future_time")
    't-check-meds_data-plausibility-no_future_time'
    """
    return "t-" + re.sub(r"[^A-Za-z0-9_]+", "-", target).strip("-")
