"""The Jinja2 environment of perfgate's HTML pages, with autoescaping always on."""

from __future__ import annotations

import jinja2

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("perfgate.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_template(name: str, **context: object) -> str:
    """Render one of perfgate/report/templates with `context`; strings are HTML-escaped."""
    return _environment.get_template(name).render(**context)
