"""Numbers and dates from outside are read strictly: plain ASCII digits, in range, real days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from adapters.errors import NoSuchDate
from adapters.numbers import INT32_MAX, json_int, strict_id, strict_int
from bot.core.limits import ANSWER_LIMIT
from bot.core.parsing import parse_command, parse_pause
from storage.models import Delivery, Person, Reflection
from tests.core.conftest import NOW, World
from tests.support.transcript import TranscriptChannel


@pytest.mark.parametrize(
    "text",
    ["²", "٣", "１２", "+7", "-1", " 7", "7 ", "1 2", "1_000", "7.0", "", "0x10", "2147483648"],
)
def test_only_plain_ascii_digits_within_range_are_a_number(text: str) -> None:
    assert strict_int(text) is None


def test_plain_digits_up_to_the_largest_database_id_are_read() -> None:
    assert strict_int("0") == 0
    assert strict_id("0") is None
    assert strict_id("007") == 7
    assert strict_id(str(INT32_MAX)) == INT32_MAX
    assert strict_id(str(INT32_MAX + 1)) is None
    assert strict_id("9" * 30) is None


def test_a_json_id_is_a_whole_number_in_range_and_never_a_bool_or_a_float() -> None:
    assert json_int(42) == 42
    for value in (True, 42.0, "42", 0, -3, 2**31, 10**30, None):
        assert json_int(value) is None


@pytest.mark.parametrize(
    ("words", "today", "shown"),
    [
        ("29 February", date(2027, 1, 10), "29 February 2027"),
        ("29 february", date(2028, 3, 1), "29 February 2029"),  # the day after a leap day
        ("until 31 April", date(2027, 3, 2), "31 April 2027"),
        ("2027-02-30", date(2027, 1, 10), "30 February 2027"),
        ("31/06/2027", date(2027, 1, 10), "31 June 2027"),
        ("45 march", date(2027, 1, 10), "45 March 2027"),
    ],
)
def test_a_pause_until_a_day_that_does_not_exist_is_named_as_such(
    words: str, today: date, shown: str
) -> None:
    with pytest.raises(NoSuchDate) as raised:
        parse_pause(words, today)
    assert raised.value.shown == shown


def test_a_leap_day_is_a_real_day_in_a_leap_year() -> None:
    assert parse_pause("29 February", date(2028, 1, 10)) == date(2028, 2, 29)
    assert parse_pause("29 feb 2028", date(2027, 1, 10)) == date(2028, 2, 29)


@pytest.mark.parametrize("words", ["٣ weeks", "² days", "１ week", "+2 weeks", "2027-٠٣-01"])
def test_a_pause_span_or_date_in_other_digits_is_not_understood(words: str) -> None:
    assert parse_pause(words, date(2027, 3, 2)) is None


def test_a_whole_message_pause_with_an_impossible_date_is_still_the_pause_command() -> None:
    message = TranscriptChannel().message("x", "pause 31 April")
    assert parse_command(message) == ("pause", "31 April")


@pytest.mark.parametrize(
    ("text", "shown", "now"),
    [
        ("pause 29 February 2027", "29 February 2027", NOW),
        ("/pause until 31 April", "31 April 2027", NOW),
        ("pause 29 February", "29 February 2029", datetime(2028, 3, 1, 10, 0, tzinfo=UTC)),
    ],
)
async def test_pausing_until_a_day_that_does_not_exist_gets_a_clear_reply_and_pauses_nothing(
    world: World, text: str, shown: str, now: datetime
) -> None:
    world.clock.current = now
    await world.channel.say(world.who, text)

    reply = world.channel.unique_reply().text
    assert f"There is no {shown}" in reply and "does not exist" in reply
    assert (await world.get(Person, world.person.id)).paused_until is None


async def test_a_tap_naming_a_delivery_id_beyond_the_database_range_is_refused_not_a_crash(
    any_world: World,
) -> None:
    """A forged button for delivery 2³¹ is turned away before the database is asked."""
    for forged in (INT32_MAX + 1, 10**25):
        await any_world.channel.say(any_world.who, choice="3", delivery_id=forged)
    assert await any_world.count(Reflection) == 0
    assert await any_world.count(Delivery) == 0


@pytest.mark.parametrize(
    "choice", ["heard:2147483648:yes", "heard:²:yes", "heard:99999999999999999999:no"]
)
async def test_a_heard_button_with_a_malformed_digest_id_is_answered_plainly(
    any_world: World, choice: str
) -> None:
    await any_world.channel.say(any_world.who, choice=choice)
    assert "can't find that summary" in any_world.channel.unique_reply().text
    assert await any_world.count(Reflection) == 0


async def test_an_answer_over_the_limit_is_not_stored_and_the_reply_gives_limit_and_length(
    world: World,
) -> None:
    await world.channel.say(world.who, "x" * (ANSWER_LIMIT + 1000))
    reply = world.channel.unique_reply().text
    assert f"{ANSWER_LIMIT + 1000:,} characters" in reply and f"{ANSWER_LIMIT:,}" in reply
    assert await world.count(Reflection) == 0


async def test_a_note_over_the_limit_is_refused_the_same_way(world: World) -> None:
    await world.channel.say(world.who, "note " + "y" * ANSWER_LIMIT)
    assert f"the limit is {ANSWER_LIMIT:,}" in world.channel.unique_reply().text
    assert await world.count(Reflection) == 0


async def test_an_answer_exactly_at_the_limit_is_kept_whole(world: World) -> None:
    words = "z" * ANSWER_LIMIT
    await world.channel.say(world.who, f"note {words[5:]}")
    [kept] = await world.all(Reflection)
    assert kept.text == words[5:]


async def test_a_nul_character_in_a_message_is_dropped_rather_than_failing_on_postgresql(
    any_world: World,
) -> None:
    await any_world.channel.say(any_world.who, "note the hub\x00 was full", event_id="e\x00-1")
    [kept] = await any_world.all(Reflection)
    assert kept.text == "the hub was full"
