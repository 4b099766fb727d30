"""The chrome table and the edge trimming built on it."""

from __future__ import annotations

import pytest

from services.cleaner.chrome import (
    CHROME_RULES,
    is_chrome,
    is_credited_caption,
    strip_chrome,
    strip_leading_chrome,
    strip_trailing_chrome,
)

STORY = [
    "The council voted on Tuesday to approve a new bridge across the river, ending a decade of "
    "debate about its cost and its route through the old town.",
    "Work is expected to start next spring and to last about two years, the council said.",
]


@pytest.mark.parametrize(
    "line",
    [
        # comment counters, in the three languages
        "التعليقات (0)", "تعليقات 12", "Comments (3)", "3 comments", "Commentaires (2)",
        # lone numbers (like and comment counts)
        "0", "12", "1.2k", "٣",
        # "most read", "related", "read more"
        "الأكثر قراءة", "الأكثر مشاهدة", "Most read", "Most popular", "Les plus lus",
        "أهم المواضيع", "أهم التصنيفات", "مواضيع ذات صلة", "Related articles", "Lire aussi",
        "Read more", "Read more »", "اقرأ المزيد", "Lire la suite", "اقرأ أيضاً", "إقرأ أيضا",
        # sharing and following
        "Share", "Partager", "شارك", "Share on Facebook", "Twitter", "WhatsApp",
        "Follow us", "Follow us on Twitter", "تابعونا على فيسبوك", "Suivez-nous",
        # navigation and section names
        "Home", "الرئيسية", "Accueil", "Menu", "Search", "بحث", "Sign in", "Se connecter",
        "سياسة", "Politics", "Économie",
        # emoji-led labels, breadcrumbs and inline menus
        "💡 أهم المواضيع", "✨ أهم التصنيفات", "🔥 Trending now", "🏠 Home",
        "Home › World › Middle East", "الرئيسية | سياسة | اقتصاد | رياضة",
        # datelines
        "Published 1 March 2024", "Updated: 12:30 GMT", "Publié le 10 janvier 2023 à 10h30",
        "Mis à jour le 10/01/2023", "نشر في 17 سبتمبر 2016", "آخر تحديث: 12:30",
        # furniture
        "Advertisement", "إعلان", "Publicité",
        "© 2024 The Daily Planet. All rights reserved.", "جميع الحقوق محفوظة © 2016",
        "Tous droits réservés", "* * *", "___",
        "Copyright 2024 NPR", "Copyright (c) 2023 Example Media Ltd", "Copyright Reuters",
        # the newsroom's standards notice, comments invitations
        "Our Standards: The Thomson Reuters Trust Principles.", "Editorial standards",
        "Join our commenting forum", "Join the discussion",
    ],
)  # fmt: skip
def test_chrome_lines(line: str) -> None:
    assert is_chrome(line)


@pytest.mark.parametrize(
    "line",
    [
        "Readers left more than 3,000 comments on the story.",
        "وقال المتحدث إن الأكثر قراءة في الصحف كان خبر الهدنة.",
        "Share prices fell sharply in early trading.",
        "Le gouvernement partage cet avis, a-t-il ajouté.",
        "Economic outlook",  # a subheading
        "المساعدات الإنسانية",
        "Live | Israel-Hamas war",  # only two parts: a title, not a menu
        "In 2024, 12 people were hurt.",
        "The 9/11 attacks: 20 years on",
        "نشر الوثائق المرتبطة بوقف إطلاق النار",  # "publishing the documents": a subheading
        "Published works by the author were banned in 1984, the court heard in a long ruling.",
        "Our standards are high, the editor said, and we mean to keep them that way.",
        "Our",  # a standards notice needs its noun
        # news about copyright (BBC News leads) is not a copyright notice
        "Japan's Honda has won a copyright case in Beijing, further evidence that China is "
        "taking a tougher line on protecting intellectual property rights.",
        "Lessons on music piracy and copyright issues are to be taught to secondary school "
        "pupils in the UK.",
    ],
)
def test_prose_is_not_chrome(line: str) -> None:
    assert not is_chrome(line)


def test_anywhere_rules_are_a_strict_subset() -> None:
    anywhere = {rule.name for rule in CHROME_RULES if rule.anywhere}

    assert anywhere == {
        "comment_counter", "follow_on_social", "read_also_teaser", "share", "advertisement",
        "separator",
    }  # fmt: skip
    assert is_chrome("Follow us on Twitter and Facebook", anywhere_only=True)
    assert is_chrome("تابعونا على تويتر وفيسبوك", anywhere_only=True)
    assert not is_chrome("Follow us on the ground as the rescue goes on", anywhere_only=True)
    assert is_chrome("Advertisement", anywhere_only=True)
    assert is_chrome("___", anywhere_only=True)  # holds no word
    assert is_chrome("Read also: Storm batters the coast", anywhere_only=True)
    assert not is_chrome("Most read", anywhere_only=True)  # may be a subheading mid-text
    assert not is_chrome("0", anywhere_only=True)


def test_rule_names_are_unique() -> None:
    names = [rule.name for rule in CHROME_RULES]

    assert len(names) == len(set(names))


def test_strips_menu_runs_and_chrome_at_the_start() -> None:
    lines = ["Home", "World", "Europe", "Sport", "Culture", "Share", "Bridge approved", *STORY]

    assert strip_leading_chrome(lines) == ["Bridge approved", *STORY]


def test_short_title_followed_by_share_is_kept() -> None:
    lines = ["Bridge approved", "Share", "12", *STORY]

    assert strip_leading_chrome(lines) == lines


def test_strips_trailing_teaser_block() -> None:
    teasers = [
        "Most read",
        "Heathrow cancels flights as fog blankets London",
        "Interest rates held for a second month",
        "Follow us",
        "© 2024 The Daily Planet",
    ]

    assert strip_trailing_chrome([*STORY, *teasers]) == STORY


def test_keeps_story_end_without_an_opener() -> None:
    ending = [*STORY, "Jane Doe contributed reporting", "Edited by John Smith"]

    assert strip_trailing_chrome(ending) == ending


def test_middle_is_only_touched_by_anywhere_rules() -> None:
    middle = ["Most read", "Economic outlook", "Advertisement", "0"]
    text = [STORY[0], *middle, STORY[1]]

    assert strip_chrome(text) == [STORY[0], "Most read", "Economic outlook", "0", STORY[1]]


def test_a_flattened_list_menu_is_one_chrome_block() -> None:
    assert is_chrome("Home\nWorld\nBusiness\nSport")
    assert not is_chrome("Flour\nTwo eggs\nA pinch of salt and a spoonful of sugar in warm milk")


def test_separator_line_is_dropped_anywhere() -> None:
    text = [STORY[0], "___", STORY[1], "* * *", "Economic outlook", STORY[0]]

    assert strip_chrome(text) == [STORY[0], STORY[1], "Economic outlook", STORY[0]]


def test_standards_notice_at_the_end_is_dropped() -> None:
    ending = [*STORY, "Reporting by Jane Doe", "Our Standards: The Daily Planet Trust Principles."]

    assert strip_chrome(ending) == [*STORY, "Reporting by Jane Doe"]


@pytest.mark.parametrize(
    "caption",
    [
        "Raye at the 2024 Brit Awards\nCredit: Ian West/PA Wire",
        "The quay at dawn\nPhotograph: Jane Doe/AP",
        "Le port au petit matin\nCrédit photo : AFP",
    ],
)
def test_photo_caption_with_its_credit_line_is_dropped_anywhere(caption: str) -> None:
    assert is_credited_caption(caption)
    assert strip_chrome([STORY[0], caption, STORY[1]]) == STORY


@pytest.mark.parametrize(
    "paragraph",
    [
        "Credit: Ian West/PA Wire",  # a lone credit line: left to the edge rules
        "The council credited the engineers.\nCredit where it is due, said the mayor, who "
        "praised the engineers and the builders for finishing the bridge on time and well "
        "within the budget that the council had set for the works two years earlier, and "
        "added that the town would celebrate the opening with a festival on the river in "
        "the spring, with music, food stalls and a regatta for the rowing clubs.",
    ],
)
def test_prose_mentioning_credit_is_not_a_caption(paragraph: str) -> None:
    assert not is_credited_caption(paragraph)
