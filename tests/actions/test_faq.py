from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import ActionAnswerFaq, FaqThresholds, decide
from retrieval.faq import load_faq
from retrieval.gaps import GapLog, GapLogUnavailable
from retrieval.index import Hit, build_index, save_index
from retrieval.search import FaqSearcher
from tests.conftest import make_tracker
from tests.retrieval.conftest import LIBRARY, WASTE, HashingEmbedder, write_faq

pytestmark = pytest.mark.anyio

# With the hashing test embedder an exact question scores ~0.65-0.7, shared words ~0.1-0.3.
THRESHOLDS = FaqThresholds(answer=0.5, choose=0.2, margin=0.05)


def hits(*scores: float) -> list[Hit]:
    return [Hit(f"entry-{n}", score, "q", "en") for n, score in enumerate(scores)]


@pytest.mark.parametrize(
    "scores, expected",
    [
        ((0.9, 0.5), "answer"),
        ((0.9, 0.88), "choose"),  # two close hits
        ((0.4, 0.1), "choose"),  # fair but not confident
        ((0.15, 0.1), "none"),
        ((), "none"),
    ],
)
def test_decision_follows_the_thresholds(scores, expected):
    assert decide(hits(*scores), THRESHOLDS) == expected


@pytest.fixture
def searcher(tmp_path: Path) -> FaqSearcher:
    faq_dir = write_faq(tmp_path / "faq", {"waste.yml": WASTE, "library.yml": LIBRARY})
    embedder = HashingEmbedder()
    save_index(build_index(load_faq(faq_dir), embedder), tmp_path / "index")
    return FaqSearcher(embedder, tmp_path / "index")


@pytest.fixture
def gaps(database_url: str) -> GapLog:
    from open311.store import make_engine

    return GapLog(make_engine(database_url))


async def run(action: ActionAnswerFaq, domain, text: str, intent: str = "faq", **tracker_args):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, make_tracker(text, intent, **tracker_args), domain)
    return dispatcher.messages, events


async def test_a_confident_match_is_answered_with_its_source(searcher, gaps, domain):
    action = ActionAnswerFaq(searcher=searcher, gaps=gaps, thresholds=THRESHOLDS)
    messages, events = await run(action, domain, "What time does the library open?")
    assert [m["response"] for m in messages] == ["utter_faq_answer"]
    assert messages[0]["answer"] == "The Central Library is open Mon-Sat 9:00-20:00."
    assert messages[0]["source"] == "https://city.example.gov/library/hours"
    assert events[0]["name"] == "faq_candidates" and events[0]["value"][0]["id"] == "library-hours"
    assert gaps.most_frequent() == []


async def test_the_answer_is_given_in_the_conversation_language_when_written(searcher, gaps, domain):
    action = ActionAnswerFaq(searcher=searcher, gaps=gaps, thresholds=THRESHOLDS)
    messages, _ = await run(action, domain, "¿Qué día recogen la basura?", slots={"language": "es"})
    assert messages[0]["answer"] == "La basura se recoge una vez por semana."


async def test_an_answer_not_yet_translated_says_which_language_it_is_in(searcher, gaps, domain):
    action = ActionAnswerFaq(searcher=searcher, gaps=gaps, thresholds=THRESHOLDS)
    messages, _ = await run(action, domain, "What time does the library open?", slots={"language": "es"})
    assert [m["response"] for m in messages] == ["utter_faq_answer_other_language"]
    assert messages[0]["answer"] == "The Central Library is open Mon-Sat 9:00-20:00."
    assert messages[0]["answer_language"] == "inglés"


async def test_choice_buttons_are_labelled_in_the_conversation_language(searcher, gaps, domain):
    action = ActionAnswerFaq(searcher=searcher, gaps=gaps, thresholds=FaqThresholds(0.99, 0.2, 0.5))
    messages, _ = await run(action, domain, "trash pickup day or couch pickup", slots={"language": "es"})
    titles = [button["title"] for button in messages[0]["buttons"]]
    assert "¿Qué día recogen la basura?" in titles  # the entry's Spanish question
    assert "How do I get rid of an old couch?" in titles  # no Spanish question: its English one
    assert titles[-1] == "Hablar con una persona"


async def test_two_close_matches_are_offered_as_buttons(searcher, gaps, domain):
    action = ActionAnswerFaq(searcher=searcher, gaps=gaps, thresholds=FaqThresholds(0.99, 0.2, 0.5))
    messages, _ = await run(action, domain, "trash pickup day or couch pickup")
    assert messages[0]["response"] == "utter_faq_choose"
    payloads = [button["payload"] for button in messages[0]["buttons"]]
    assert sorted(payloads[:2]) == ['/faq{"faq_id": "waste-bulky-items"}', '/faq{"faq_id": "waste-collection-day"}']
    assert payloads[2] == "/human_handoff"
    [gap] = gaps.most_frequent()
    assert (gap.question, gap.outcome) == ("trash pickup day or couch pickup", "unsure")


async def test_a_chosen_button_answers_that_entry(searcher, gaps, domain):
    action = ActionAnswerFaq(searcher=searcher, gaps=gaps, thresholds=THRESHOLDS)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker('/faq{"faq_id": "waste-bulky-items"}', "faq")
    tracker.latest_message["entities"] = [{"entity": "faq_id", "value": "waste-bulky-items"}]
    await action.run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["source"] == "https://city.example.gov/waste/bulky"


async def test_nothing_good_enough_says_so_offers_a_person_and_logs_the_gap(searcher, gaps, domain):
    action = ActionAnswerFaq(searcher=searcher, gaps=gaps, thresholds=THRESHOLDS)
    messages, _ = await run(action, domain, "Can my email jane@example.com get the zoo discount?")
    assert [m["response"] for m in messages] == ["utter_faq_no_answer"]
    [gap] = gaps.most_frequent()
    assert gap.question == "can my email [email] get the zoo discount"
    assert gap.outcome == "no_answer"


async def test_a_message_not_understood_and_not_in_the_faq_gets_did_you_mean(searcher, gaps, domain):
    action = ActionAnswerFaq(searcher=searcher, gaps=gaps, thresholds=FaqThresholds(0.9, 0.5, 0.05))
    ranking = [("nlu_fallback", 0.35), ("renewal_info", 0.3), ("outage_status", 0.1)]
    messages, _ = await run(action, domain, "renew stuff?", intent="nlu_fallback", ranking=ranking)
    assert messages[0]["response"] == "utter_clarify"


async def test_a_message_not_understood_but_in_the_faq_is_answered(searcher, gaps, domain):
    action = ActionAnswerFaq(searcher=searcher, gaps=gaps, thresholds=THRESHOLDS)
    messages, _ = await run(action, domain, "Library opening hours", intent="nlu_fallback")
    assert messages[0]["response"] == "utter_faq_answer"


async def test_without_an_index_the_citizen_gets_an_apology(tmp_path, gaps, domain):
    action = ActionAnswerFaq(searcher=FaqSearcher(HashingEmbedder(), tmp_path), gaps=gaps, thresholds=THRESHOLDS)
    messages, _ = await run(action, domain, "library hours")
    assert [m["response"] for m in messages] == ["utter_faq_unavailable"]


class DownGapLog(GapLog):
    def __init__(self) -> None:
        pass

    def record(self, *args, **kwargs) -> None:
        raise GapLogUnavailable("database down")


async def test_a_gap_log_that_is_down_does_not_cost_the_citizen_a_reply(searcher, domain):
    action = ActionAnswerFaq(searcher=searcher, gaps=DownGapLog(), thresholds=THRESHOLDS)
    messages, _ = await run(action, domain, "zoo discount for pensioners")
    assert [m["response"] for m in messages] == ["utter_faq_no_answer"]


def test_faq_answers_end_a_run_of_misunderstandings(domain):
    from actions.fallback import consecutive_failures

    fallback = {"event": "user", "text": "x", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    answered = {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_faq_answer"}}
    tracker = make_tracker("zzz", "nlu_fallback", events=[fallback, answered])
    assert consecutive_failures(tracker) == 1


async def test_a_button_for_an_entry_that_was_removed_says_so_without_logging_a_gap(searcher, gaps, domain):
    action = ActionAnswerFaq(searcher=searcher, gaps=gaps, thresholds=THRESHOLDS)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker('/faq{"faq_id": "gone-entry"}', "faq")
    tracker.latest_message["entities"] = [{"entity": "faq_id", "value": "gone-entry"}]
    await action.run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq_no_answer"]
    assert gaps.most_frequent() == []
