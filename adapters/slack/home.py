"""The App Home tab: where a person stands, and the controls to pause, resume and choose an
audience. The adapter knows nothing of the database: carbot passes in a ``HomeProvider`` that
returns a :class:`HomeView` for a Slack user, and the adapter renders it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import adapters.actions as actions
from adapters.base import Choice
from adapters.slack.blocks import Block, context_block, escape, section_block

PAUSE_ACTION = "carbot_home_pause"  # + "_1w" / "_2w"
RESUME_ACTION = "carbot_home_resume"
AUDIENCE_ACTION = "carbot_home_audience"
PAUSES = {"1w": ("1 week", "Pause 1 week"), "2w": ("2 weeks", "Pause 2 weeks")}
HOME_ACTIONS = (actions.Pause, actions.Resume, actions.SetAudience)  # what its controls ask


@dataclass(frozen=True)
class RecentAnswer:
    """One of the person's recent answers, as shown to them."""

    when: str  # "Tuesday 3 December"
    question: str  # the prompt, or "Note"
    answer: str
    audience: str  # "Only me", "Team, named"…


@dataclass(frozen=True)
class HomeView:
    """What the App Home shows. ``name`` None: the Slack user is not linked to anyone yet."""

    name: str | None
    next_prompt: str | None = None  # "Tuesday 3 December at 10:00 · Family hub"
    paused_until: str | None = None  # "Friday 13 December"
    withdrawn: bool = False
    audience: str | None = None  # the value of the chosen option ("audience:team")
    audience_options: tuple[Choice, ...] = ()
    recent: tuple[RecentAnswer, ...] = ()


HomeProvider = Callable[[str | None, str], Awaitable[HomeView]]
"""``(team id, Slack user id) -> HomeView``."""


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def _option(choice: Choice) -> Block:
    return {"text": {"type": "plain_text", "text": choice.label[:75]}, "value": choice.value}


def home_view(view: HomeView) -> Block:
    """The ``views.publish`` payload for ``view``."""
    if view.name is None:
        blocks = [
            _header("Welcome to carbot"),
            section_block(
                "I don't know you yet. Ask your project lead for a sign-up code, then type "
                "`link CODE` in the Messages tab (or `/carbot link CODE`)."
            ),
        ]
        return {"type": "home", "blocks": blocks}
    blocks = [_header(f"Hello {view.name}")]
    if view.withdrawn:
        blocks.append(
            section_block(
                "You have left the study, so I won't send you any questions or keep anything "
                "you send. Type `stop` in the Messages tab to keep or delete what you shared, "
                "`my data` to see what is held, or `start` to take part again."
            )
        )
        return {"type": "home", "blocks": blocks}
    if view.paused_until:
        status = f"⏸ Paused until {view.paused_until}. No questions until then."
    elif view.next_prompt:
        status = f"Next question: {view.next_prompt}"
    else:
        status = "No question is planned for you right now."
    blocks.append(section_block(status))
    controls: list[Block] = []
    if view.paused_until:
        controls.append(
            {
                "type": "button",
                "action_id": RESUME_ACTION,
                "text": {"type": "plain_text", "text": "Resume now"},
                "style": "primary",
                "value": actions.encode(actions.Resume()),
            }
        )
    else:
        for key, (span, label) in PAUSES.items():
            controls.append(
                {
                    "type": "button",
                    "action_id": f"{PAUSE_ACTION}_{key}",
                    "text": {"type": "plain_text", "text": label},
                    "value": actions.encode(actions.Pause(span)),
                }
            )
    blocks.append({"type": "actions", "block_id": "home_pause", "elements": controls})
    if view.audience_options:
        select: Block = {
            "type": "static_select",
            "action_id": AUDIENCE_ACTION,
            "placeholder": {"type": "plain_text", "text": "Choose who sees your answers"},
            "options": [_option(c) for c in view.audience_options],
        }
        chosen = [c for c in view.audience_options if c.value == view.audience]
        if chosen:
            select["initial_option"] = _option(chosen[0])
        blocks.append(
            {
                "type": "section",
                "block_id": "home_audience",
                "text": {"type": "mrkdwn", "text": "*Who sees my answers by default*"},
                "accessory": select,
            }
        )
    blocks.append({"type": "divider"})
    blocks.append(_header("Your recent answers"))
    if not view.recent:
        blocks.append(section_block("Nothing yet. Your answers will appear here."))
    for answer in view.recent[:10]:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*{escape(answer.question)[:200]}*\n{escape(answer.answer)[:2500]}",
                },
            }
        )
        blocks.append(context_block(f"{answer.when} · visible to: {answer.audience}"))
    return {"type": "home", "blocks": blocks[:100]}
