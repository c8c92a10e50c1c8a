"""The prompt library: what it holds, how a study changes it, how the next prompt is chosen."""

from __future__ import annotations

import itertools
from collections import Counter
from types import SimpleNamespace

import pytest

from adapters.errors import PromptLibraryError
from prompts.library import load_library

DEFAULT_MODEL = ("scoping", "exploring-evidence", "testing-change")
PAOR_MODEL = ("plan", "act", "observe", "reflect")
RQ = SimpleNamespace(
    key="reach", text="How can the family hub reach families who do not use services now?"
)


def choose_many(phase: str, count: int, **kw: object) -> list[str]:
    library = load_library(None)
    recent: list[str] = []
    for n in range(count):
        chosen = library.choose(
            phase,
            kw.get("rqs", [RQ]),  # type: ignore[arg-type]
            kw.get("themes", []),  # type: ignore[arg-type]
            recent,
            kw.get("answers", {}),  # type: ignore[arg-type]
            seed=f"person-7:{n}",
        )
        recent.insert(0, chosen.key)
    return list(reversed(recent))


@pytest.mark.parametrize("phase", DEFAULT_MODEL + PAOR_MODEL)
def test_every_phase_of_both_models_has_at_least_eight_prompts_of_several_kinds(
    phase: str,
) -> None:
    items = load_library(None).for_phase(phase)
    own = [i for i in items if phase in i.phases]

    assert len(items) >= 8
    assert len(own) >= 5
    assert {"text", "scale", "choice", "evidence"} <= {i.kind for i in items}


def test_the_library_has_rolfes_questions_most_significant_change_and_themes() -> None:
    library = load_library(None)
    texts = {i.key: i.text for i in library.items}
    themes = {t for i in library.items for t in i.themes}

    assert texts["rolfe-what"].startswith("What?")
    assert texts["rolfe-so-what"].startswith("So what?")
    assert texts["rolfe-now-what"].startswith("Now what?")
    assert "most significant change" in texts["most-significant-change"]
    assert {"partnership working", "community engagement", "budgets", "prevention"} <= themes
    assert all(len(i.text) <= 200 for i in library.items)  # a phone screen, one message


def test_nobody_gets_the_same_question_twice_in_a_row_and_the_library_is_spread() -> None:
    for phase in DEFAULT_MODEL + PAOR_MODEL:
        keys = choose_many(phase, 60)
        assert all(a != b for a, b in itertools.pairwise(keys))
        counts = Counter(keys)
        assert len(counts) >= 8
        assert max(counts.values()) <= 10


def test_a_scale_prompt_offers_one_to_five_with_labels_at_the_ends() -> None:
    library = load_library(None)
    item = library.get("testing-working")
    assert item is not None
    chosen = library.render(item, [], {}, seed="x")

    assert [o["value"] for o in chosen.options] == ["1", "2", "3", "4", "5"]
    assert chosen.options[0]["label"] == "1 – Not at all"
    assert chosen.options[4]["label"] == "5 – Very well"
    assert chosen.options[2]["label"] == "3"


def test_a_choice_prompt_offers_its_options_as_values_and_labels() -> None:
    library = load_library(None)
    item = library.get("testing-keep-adapt-drop")
    assert item is not None
    chosen = library.render(item, [], {}, seed="x")

    assert chosen.kind == "choice"
    assert {"value": "Adapt it", "label": "Adapt it"} in chosen.options


def test_a_research_question_prompt_names_the_question_and_records_which() -> None:
    library = load_library(None)
    item = library.get("exploring-rq-evidence")
    assert item is not None
    chosen = library.render(item, [RQ], {}, seed="x")

    assert chosen.text == (
        'What evidence did you come across this week about "How can the family hub reach '
        'families who do not use services now?"?'.replace('?"?', '?"')
    )
    assert chosen.research_question_key == "reach"


def test_prompts_tied_to_a_research_question_are_not_asked_without_one() -> None:
    keys = choose_many("exploring-evidence", 40, rqs=[])
    library = load_library(None)
    assert not [k for k in keys if library.get(k).research_question]  # type: ignore[union-attr]


def test_a_carry_forward_prompt_quotes_the_persons_own_earlier_answer() -> None:
    library = load_library(None)
    answer = "Run a drop-in at the school gates on Fridays, with the health visitor there too."
    chosen = library.choose(
        "testing-change", [RQ], [], ["testing-next-step"], {"testing-next-step": answer}, seed="s"
    )

    assert chosen.key == "cf-testing-followup"
    assert chosen.text == f"Last cycle you planned: '{answer}' — what happened?"


def test_a_long_earlier_answer_is_shortened_at_a_word() -> None:
    library = load_library(None)
    item = library.get("cf-testing-followup")
    assert item is not None
    answer = "We will phone every family who missed two appointments " * 8
    text = library.render(item, [], {"testing-next-step": answer}, seed="s").text
    quote = text.split("'")[1]

    assert quote.endswith("…")
    assert len(quote) <= 160
    assert quote[:-1].split()[-1] in answer.split()


def test_without_an_earlier_answer_no_carry_forward_prompt_is_asked() -> None:
    library = load_library(None)
    keys = choose_many("testing-change", 40)
    assert not [k for k in keys if library.get(k).carry_forward]  # type: ignore[union-attr]


def test_a_study_can_add_prompts_and_its_themes_are_preferred() -> None:
    extra = {
        "key": "hub-footfall",
        "kind": "scale",
        "text": "How busy was the family hub this week?",
        "themes": ["family hubs"],
        "labels": {1: "Empty", 5: "Packed"},
    }
    library = load_library({"prompts": {"mode": "extend", "items": [extra]}})

    def first_choices(themes: list[str]) -> int:
        picks = [library.choose("scoping", [], themes, [], {}, seed=str(n)) for n in range(100)]
        return sum(p.key == "hub-footfall" for p in picks)

    assert "rolfe-what" in library.keys and "hub-footfall" in library.keys
    assert first_choices(["family hubs"]) > 2 * first_choices([]) + 10


def test_a_study_can_replace_the_library() -> None:
    items = [
        {"key": "q1", "kind": "text", "text": "What went well today?"},
        {"key": "q2", "kind": "choice", "text": "How was today?", "options": ["Good", "Bad"]},
    ]
    library = load_library({"prompts": {"mode": "replace", "items": items}})
    keys = [library.choose("plan", [], [], [k], {}, seed=str(n)).key for n, k in enumerate("ab")]

    assert library.keys == {"q1", "q2"}
    assert set(keys) <= {"q1", "q2"}


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"key": "s", "kind": "scale", "text": "How was it?"}, "labels for points 1 to 5"),
        (
            {"key": "s", "kind": "scale", "text": "How?", "labels": {1: "a", 6: "b"}},
            "labels for points 1 to 5",
        ),
        ({"key": "c", "kind": "choice", "text": "Which?", "options": ["only"]}, "two options"),
        ({"key": "e", "kind": "evidence", "text": "Send one"}, "[photo, file, voice]"),
        (
            {"key": "r", "kind": "text", "text": "About {research_question}"},
            "research_question is not true",
        ),
        (
            {"key": "r", "kind": "text", "text": "About it", "research_question": True},
            "has no {research_question}",
        ),
        ({"key": "k", "kind": "poem", "text": "Write one"}, "prompts.items[0] (k).kind"),
        ({"key": "Bad Key", "kind": "text", "text": "Hello there"}, ".key"),
        ({"key": "t", "kind": "text", "text": "Hi there", "colour": "red"}, ".colour"),
        (
            {
                "key": "f",
                "kind": "text",
                "text": "What happened?",
                "carry_forward": {"from": "nowhere", "template": "You said '{quote}'"},
            },
            "unknown prompt 'nowhere'",
        ),
        (
            {
                "key": "f",
                "kind": "text",
                "text": "What happened?",
                "carry_forward": {"from": "rolfe-now-what", "template": "no quote"},
            },
            "{quote}",
        ),
    ],
)
def test_an_invalid_study_prompt_gets_a_clear_error(item: dict[str, object], problem: str) -> None:
    with pytest.raises(PromptLibraryError) as caught:
        load_library({"prompts": {"mode": "extend", "items": [item]}})

    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_an_invalid_prompts_option_is_refused_with_its_path() -> None:
    with pytest.raises(PromptLibraryError, match=r"prompts\.mode"):
        load_library({"prompts": {"mode": "merge", "items": []}})
    with pytest.raises(PromptLibraryError, match="the prompt library is empty"):
        load_library({"prompts": {"mode": "replace", "items": []}})
    with pytest.raises(PromptLibraryError, match="used twice"):
        load_library(
            {
                "prompts": {
                    "mode": "replace",
                    "items": [{"key": "a", "kind": "text", "text": "Hello?"}] * 2,
                }
            }
        )
