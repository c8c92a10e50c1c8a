"""``carbot report``: the research cycle's own outputs, e.g. an event's evaluation summary."""

from __future__ import annotations

import click

from bot.cli.evaluation import evaluation


@click.group("report")
def report() -> None:
    """Reports of the research cycle itself: an event's evaluation."""


report.add_command(evaluation, name="evaluation")
