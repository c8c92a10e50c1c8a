"""Digest emails as a named set of templates, built by one :func:`make_message`.

``make_message("weekly", to, context)`` renders ``digests/templates/weekly-subject.txt``,
``weekly-body.txt`` and ``weekly-body.html`` (the HTML one with ``autoescape=True``, so HTML and
script inside a reflection arrive as text), inlines the CSS with ``css_inline`` and returns a
``multipart/alternative`` :class:`email.message.EmailMessage`. The plain-text part is a text
template, not a conversion of the HTML: it carries the same content, written for plain text
(it is never interpreted as markup, so it is not HTML-escaped).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import css_inline
from jinja2 import Environment, PackageLoader, StrictUndefined

from digests.chart import participation_chart, participation_text
from digests.data import WeeklyDigest, day_text, format_rate

log = logging.getLogger(__name__)

_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _day(value: date | None) -> str:
    return day_text(value) if value else ""


def _median(value: float) -> str:
    return f"{value:g}"


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("digests", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(rate=format_rate, plural=_plural, day=_day, median=_median)
    return env


HTML = _environment(autoescape=True)
TEXT = _environment(autoescape=False)


def render_text(template: str, context: Mapping[str, Any]) -> str:
    return TEXT.get_template(template).render(**context)


def render_html(template: str, context: Mapping[str, Any]) -> str:
    """The HTML, with its CSS inlined (``@media`` rules kept in a ``<style>``)."""
    return _INLINER.inline(HTML.get_template(template).render(**context))


def make_message(
    name: str,
    to: str | Sequence[str],
    context: Mapping[str, Any],
    *,
    sender: str = "carbot <carbot@localhost>",
    message_id: str | None = None,
    related: Sequence[tuple[str, bytes, str]] = (),
) -> EmailMessage:
    """The email ``name`` (``weekly``, ``cross-partnership``) for ``to``, rendered from
    ``context``: subject, plain text and HTML alternatives. ``related`` holds inline images
    (content id, bytes, content type) that the HTML shows as ``cid:`` sources."""
    subject = " ".join(render_text(f"{name}-subject.txt", context).split())
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to if isinstance(to, str) else ", ".join(to)
    message["Date"] = formatdate(localtime=False)
    if message_id:
        message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        render_text(f"{name}-body.txt", context), subtype="plain", cte="quoted-printable"
    )
    message.add_alternative(
        render_html(f"{name}-body.html", context), subtype="html", cte="quoted-printable"
    )
    if related:
        html_part = message.get_body(("html",))
        assert html_part is not None
        for cid, data, content_type in related:
            maintype, _, subtype = content_type.partition("/")
            html_part.add_related(
                data,
                maintype=maintype,
                subtype=subtype or "octet-stream",
                cid=f"<{cid}>",
                disposition="inline",
            )
    return message


def weekly_context(digest: WeeklyDigest, *, recipient_name: str | None = None) -> dict[str, Any]:
    history = digest.engagement.history
    return {
        "d": digest,
        "recipient_name": recipient_name,
        "chart": participation_chart(history),
        "chart_text": participation_text(history),
        "subject_span": digest.week.span_text(),
    }
