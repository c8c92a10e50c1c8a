"""Made-up answers for the demo, in the plain UK English of front-line staff.

An answer is put together from what a person might have seen in their project this week (by the
project's topic) and where the cycle is (by phase), so that a digest or the review workspace
reads like real fieldwork. Every name of a place or group here is generic; nobody real is quoted.
"""

from __future__ import annotations

import random

# What people notice, by project topic (matched on words of the project's slug).
TOPICS: dict[str, tuple[str, ...]] = {
    "links-worker": (
        "a GP receptionist referred two older men to the lunch club instead of booking them in "
        "again",
        "the links worker spent most of Tuesday finding out which groups still meet since the "
        "hall closed",
        "people told us they came because someone they trusted walked them through the door",
        "the surgery wants a one-page list of groups, but the groups change every few months",
        "a woman who had been isolated for a year is now helping run the Thursday walk",
    ),
    "evidence": (
        "the locality team had figures the centre didn't know existed, and the other way round",
        "we spent half the meeting agreeing what counts as a 'contact'",
        "the dashboard from the centre is three months out of date by the time it reaches us",
        "a short story from a carer said more than the whole quarterly return",
        "the data officer offered to sit with us for an hour, which made a real difference",
    ),
    "family-hub": (
        "three families came to the drop-in who had never used any of our services",
        "the health visitor and the housing officer met in the hub kitchen and sorted a case "
        "there and then",
        "parents said the building still feels like 'the council' at the front door",
        "the Wednesday stay-and-play is full but the evening session is nearly empty",
        "a dad asked whether he could bring his own mum, who looks after the kids twice a week",
    ),
    "welfare-hub": (
        "the queue on Monday morning was mostly people whose Universal Credit payment was late",
        "having the advice worker and the food bank in one room saved people three trips",
        "one man had been sanctioned and didn't know he could ask for a reconsideration",
        "the job centre staff came over for a coffee and stayed for an hour",
        "we are seeing more people in work than we expected, mostly on zero-hours contracts",
    ),
    "schools": (
        "the head teacher gave us twenty minutes at the staff meeting, which is a first",
        "pupils told us the breakfast club matters more than anything we had planned",
        "attendance at the parents' evening drop-in doubled when we moved it to the library",
        "a guidance teacher said she now knows who to phone about housing worries",
        "the pupil council wants to run their own survey rather than fill in ours",
    ),
    "budgeting": (
        "forty people came to the voting event, and a third had never been to anything similar",
        "the youth group pitched for a minibus and won most of the votes",
        "some residents asked why the council decides which ideas go on the ballot",
        "the small grants paperwork put two groups off applying at all",
        "people liked seeing the money on the table in real terms, not percentages",
    ),
    "poverty": (
        "a care worker told us she goes without lunch so her kids can have one",
        "employers were more open to talking about shift patterns than we expected",
        "most people we spoke to didn't know they could still claim help while working",
        "the credit union stall had more questions than the benefits stall",
        "two people said the bus fare makes the extra hours not worth it",
    ),
    "thriving": (
        "the community anchor organisation now chairs the monthly meeting, not us",
        "residents mapped where they feel safe, and it didn't match our crime figures",
        "the back-court clean-up brought out neighbours who'd never spoken",
        "the housing association agreed to share their repairs data with the group",
        "people want the play park fixed before they want another consultation",
    ),
    "joint-working": (
        "the police, housing and the youth team walked the estate together for the first time",
        "we agreed one named contact per service, which the residents asked for last year",
        "the shared diary sounds small but it stopped two visits on the same morning",
        "there's still a worry about sharing information across services",
        "tenants' association members said they can see us talking to each other now",
    ),
    "action-planning": (
        "the community group wrote the first draft of the plan themselves",
        "we held the session in the bowling club and more people came than to the hall",
        "priorities from residents were transport, the shop closing and things for teenagers",
        "some councillors were nervous about promising things the plan can't deliver",
        "people want to see a 'you said, we did' sheet before the next meeting",
    ),
    "profiling": (
        "the profile shows the area is younger than we'd all assumed",
        "residents corrected two of our maps, and they were right",
        "the neighbourhood doesn't match the data zone boundaries at all",
        "a local pharmacist had a better picture of need than any of our datasets",
        "we are adding people's own descriptions of the area next to the statistics",
    ),
}
GENERAL = (
    "a conversation in the corridor got further than the formal meeting",
    "people are stretched, and the research has to fit round the day job",
    "the partners agreed to meet monthly rather than quarterly",
    "we were reminded that trust takes longer than the project timetable",
)

PHASES: dict[str, tuple[str, ...]] = {
    "scoping": (
        "We're still working out the right question. This week {seen}.",
        "Early days. What struck me: {seen}.",
        "{Seen}. I think that tells us where to look first.",
        "Mostly listening this week — {seen}.",
    ),
    "exploring-evidence": (
        "Looking at what we've gathered: {seen}.",
        "{Seen}. That's the clearest bit of evidence so far.",
        "The evidence is mixed. {Seen}, but it's only a few people.",
        "Something I didn't expect: {seen}.",
    ),
    "testing-change": (
        "We tried the change this week and {seen}.",
        "{Seen}. So the change seems to be helping, at least for some.",
        "Small test, honest answer: {seen}. We'll keep it going another fortnight.",
        "Since we changed things, {seen}.",
    ),
}
CLOSERS = (
    "",
    "",
    " Next step is to talk it through at the team meeting.",
    " Worth checking with the other partners whether they see the same.",
    " I'd like to follow this up next week.",
    " Not sure yet what it means for us.",
)
CAPTIONS = (
    "The noticeboard at the drop-in after this week's session.",
    "Photo of the sign-up sheet — more names than last time.",
    "Where people gathered before the meeting started.",
    "The map residents marked up with sticky dots.",
)
VOICE_CAPTIONS = (
    "Quick voice note on the way back from the session.",
    "Voice note — easier than typing it on the bus.",
)
NOTES = (
    "Note to self: the room booking for next month fell through, need a new venue.",
    "Had a good chat with the lead about what to drop from the plan.",
    "Reminder that the partners' meeting moved to Thursday afternoons.",
)


def topic_lines(project_slug: str) -> tuple[str, ...]:
    for word, lines in TOPICS.items():
        if word in project_slug:
            return lines + GENERAL
    return GENERAL


def text_answer(rng: random.Random, project_slug: str, phase_key: str | None) -> str:
    """A one- to three-sentence answer that fits the project and the phase."""
    seen = rng.choice(topic_lines(project_slug))
    template = rng.choice(PHASES.get(phase_key or "", PHASES["exploring-evidence"]))
    text = template.format(seen=seen, Seen=seen[0].upper() + seen[1:])
    return text + rng.choice(CLOSERS)


def scale_comment(rng: random.Random, value: int) -> str:
    if rng.random() < 0.5:
        return ""
    if value <= 2:
        return rng.choice(("Hard week, honestly.", "Not much time for it this week."))
    if value >= 4:
        return rng.choice(("Felt like real progress.", "Good week for it."))
    return rng.choice(("Somewhere in the middle.", "Some bits yes, some bits no."))


# Answers to the context prompts asked before a retreat (prompts/library/context.yaml).
CONTEXT = {
    "background": (
        "It started from the partnership's locality plan: families were telling three services "
        "the same story and nobody joined it up.",
        "The idea came out of the first retreat, when we saw how much money went on crisis "
        "support that earlier help could have prevented.",
    ),
    "status": (
        "We have mapped who does what and run two drop-in sessions; the pathway draft goes to "
        "the partners' meeting next month.",
        "Scoping is done and we are gathering evidence: footfall counts, a short survey and "
        "notes from the front desk.",
    ),
    "challenges": (
        "Staff time: everyone is covering vacancies, so the project slips to the end of the week.",
        "Getting data shared between the council and the health board without a new agreement.",
    ),
    "evidence": (
        "The footfall counts from the hub and the survey of parents at the school gate.",
        "Case notes from the welfare rights team, summarised without names.",
    ),
    "gaps": (
        "We cannot yet show whether families who came once came back.",
        "Nothing from people who never use any service: they are the ones we most need to hear.",
    ),
}


def context_answer(rng: random.Random, project_slug: str, topic: str) -> str:
    """An answer to a context prompt, with one of the project's own moments as its example."""
    seen = rng.choice(topic_lines(project_slug))
    return f"{rng.choice(CONTEXT.get(topic, CONTEXT['status']))} One example: {seen}."
