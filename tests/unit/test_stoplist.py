"""Stop words, and the per-recipient refusals 212 (stop list) and 243 (loop protection)."""

from __future__ import annotations

import pytest

from pilotgate.domain import stoplist
from pilotgate.domain.messages import Draft, Status

WORDS = stoplist.parse_words(stoplist.DEFAULT_STOP_WORDS)


def draft(phone: str, text: str = "Hello", *, error: int = 0) -> Draft:
    return Draft(
        phone=phone,
        sender="INFORM",
        text=text,
        parts=1,
        channel="sms",
        price=0 if error else 395,
        status=Status.ERROR if error else Status.ACCEPTED,
        error=error,
        send_datetime=None,
        ttl=None,
        callback=None,
        callback_method=None,
        country="RU",
        operator="Tele2",
        test=False,
        route="" if error else "emulator",
    )


@pytest.mark.parametrize(
    "text", ["STOP", "stop", " Stop \n", "СТОП", "стоп", "Стоп!", "отписаться", "STOPALL"]
)
def test_stop_words_match_whole_trimmed_case_insensitive(text):
    assert stoplist.is_stop_word(text, WORDS)


@pytest.mark.parametrize("text", ["", "   ", "please stop", "STOPPED", "stop it", "СТОП СТОП"])
def test_other_texts_are_not_stop_words(text):
    assert not stoplist.is_stop_word(text, WORDS)


def test_configured_words_replace_the_defaults():
    words = stoplist.parse_words(" halt , Хватит,, ")
    assert words == {"halt", "хватит"}
    assert stoplist.is_stop_word("HALT", words)
    assert stoplist.is_stop_word("ХВАТИТ", words)
    assert not stoplist.is_stop_word("STOP", words)


def test_listed_phone_becomes_an_uncharged_212_item():
    ok, listed = stoplist.screen([draft("79001"), draft("79002")], {"79002"})
    assert ok == draft("79001")
    assert (listed.status, listed.error, listed.price, listed.route) == (Status.ERROR, 212, 0, "")
    assert listed.phone == "79002"


def test_earlier_errors_are_kept():
    (item,) = stoplist.screen([draft("79002", error=213)], {"79002"})
    assert item.error == 213


def test_loop_protection_refuses_recent_same_text_only_when_on():
    recent = {("79001", "Hello"), ("79002", "Other")}
    drafts = [draft("79001"), draft("79002"), draft("79003")]
    assert stoplist.screen(drafts, set(), recent) == drafts  # off: nothing refused
    screened = stoplist.screen(drafts, set(), recent, loop_protection=True)
    assert [d.error for d in screened] == [243, 0, 0]


def test_black_list_wins_over_loop():
    (item,) = stoplist.screen(
        [draft("79001")], {"79001"}, {("79001", "Hello")}, loop_protection=True
    )
    assert item.error == 212


def test_a_packet_repeating_an_item_is_a_loop_unless_told_otherwise():
    drafts = [draft("79001"), draft("79001"), draft("79001", "Other")]
    within = stoplist.screen(drafts, set(), loop_protection=True)
    assert [d.error for d in within] == [0, 243, 0]
    alone = stoplist.screen(drafts, set(), loop_protection=True, within_request=False)
    assert [d.error for d in alone] == [0, 0, 0]
