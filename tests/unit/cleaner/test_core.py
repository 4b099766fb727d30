"""clean_html / clean_text / clean on realistic Arabic, English and French pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.cleaner.core import (
    MIN_ARTICLE_CHARS,
    Extracted,
    NotAnArticle,
    clean,
    clean_html,
    clean_text,
)


def _paragraphs(result: Extracted) -> list[str]:
    return result.text.split("\n\n")


TITLE_EN = "Storm Ciarán: thousands without power as record winds batter southern England"
ENGLISH_PAGE = f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>{TITLE_EN} | The Daily Planet</title>
<meta property="og:title" content="{TITLE_EN} | The Daily Planet">
<meta property="og:site_name" content="The Daily Planet">
<meta property="og:description"
      content="Gusts of more than 100mph were recorded as the storm made landfall.">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2023-11-02T08:15:00Z">
</head><body>
<header><nav><a href="/">Home</a> <a href="/uk">UK</a> <a href="/world">World</a>
<a href="/business">Business</a> <a href="/sport">Sport</a></nav></header>
<main><article>
<h1>{TITLE_EN}</h1>
<p class="byline">By <a href="/profile/jane-doe">Jane Doe</a>, Environment correspondent</p>
<div class="share"><a href="#">Share</a> <a href="#">Facebook</a> <a href="#">Twitter</a></div>
<p>More than 150,000 homes were left without power on Thursday after Storm Ciarán brought
gusts of more than 100mph to the south coast, toppling trees and forcing the closure of
several major roads.</p>
<p>The Met Office issued a rare amber warning for wind across Cornwall and Devon overnight,
saying that flying debris could pose a danger to life and that large waves were likely
along exposed coastlines.</p>
<div class="ad">Advertisement</div>
<h2>Travel disruption</h2>
<p>Rail operators cancelled dozens of services across the region, and National Highways
said the A30 was blocked in both directions near Bodmin after a lorry overturned in the
early hours.</p>
<p>Ferry crossings between Dover and Calais were suspended until at least midday, and
passengers were told to check with their operator before setting off for the port.</p>
<p>“We have crews out across the network and we are restoring supplies as quickly and
safely as we can,” a spokesperson for the regional electricity network said.</p>
</article>
<section class="comments"><h3>Comments (3)</h3></section>
<aside><h3>Most read</h3><ul>
<li><a href="/a">Heathrow cancels flights as fog blankets London</a></li>
<li><a href="/b">Interest rates held at 5.25% for a second month</a></li>
</ul></aside></main>
<footer><p>© 2023 The Daily Planet. All rights reserved.</p></footer>
</body></html>"""

TITLE_FR = "Réforme des retraites : le gouvernement présente son projet"
FRENCH_PAGE = f"""<!DOCTYPE html>
<html lang="fr-FR"><head><meta charset="utf-8">
<title>{TITLE_FR} - Le Quotidien</title>
<meta property="og:site_name" content="Le Quotidien">
<meta name="description" content="L'âge légal de départ serait progressivement relevé à 64 ans.">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
"headline": "Réforme des retraites", "datePublished": "2023-01-10T10:30:00+01:00",
"author": {{"@type": "Person", "name": "Marie Dupont"}}}}</script>
</head><body>
<header><nav><ul><li><a href="/">Accueil</a></li><li><a href="/politique">Politique</a></li>
<li><a href="/economie">Économie</a></li><li><a href="/societe">Société</a></li></ul></nav>
</header>
<main><article>
<h1>{TITLE_FR}</h1>
<p>La Première ministre a présenté mardi le projet de réforme des retraites, qui prévoit de
relever progressivement l'âge légal de départ de 62 à 64 ans d'ici à 2030, une mesure
contestée par l'ensemble des syndicats.</p>
<p><strong>Lire aussi :</strong>
<a href="/x">Les syndicats appellent à une première journée de mobilisation</a></p>
<h2>Un report de l'âge légal</h2>
<p>Le texte prévoit également une accélération de l'allongement de la durée de cotisation,
qui atteindrait quarante-trois annuités dès 2027, ainsi qu'une revalorisation de la pension
minimale pour les carrières complètes.</p>
<p>Le projet sera présenté en conseil des ministres le 23 janvier avant d'être examiné par
l'Assemblée nationale au début du mois de février, a précisé le gouvernement.</p>
<div class="partage">Partager</div>
</article>
<section><h3>Commentaires (2)</h3></section>
<aside><h3>Les plus lus</h3><ul>
<li><a href="/c">Le prix de l'électricité augmentera de 15 % en février</a></li>
<li><a href="/d">Grève : le trafic SNCF fortement perturbé jeudi</a></li></ul></aside></main>
<footer><p>© Le Quotidien 2023 – Tous droits réservés</p></footer>
</body></html>"""


class TestHtmlPages:
    def test_english_article(self) -> None:
        result = clean_html(ENGLISH_PAGE, "https://www.dailyplanet.example/uk/storm-ciaran")

        assert result.title == TITLE_EN
        paragraphs = _paragraphs(result)
        assert paragraphs[0].startswith("More than 150,000 homes")
        assert "Travel disruption" in paragraphs
        assert paragraphs[-1].startswith("“We have crews out")
        for chrome in ("Advertisement", "Most read", "Comments", "Heathrow", "©", "Share"):
            assert chrome not in result.text
        assert result.title not in result.text
        assert result.language_hint == "en"
        assert result.site_name == "The Daily Planet"
        assert result.authors == ["Jane Doe"]
        assert result.published_at == datetime(2023, 11, 2, 8, 15, tzinfo=UTC)
        assert (
            result.description
            == "Gusts of more than 100mph were recorded as the storm made landfall."
        )

    def test_french_article(self) -> None:
        result = clean_html(FRENCH_PAGE, "https://www.lequotidien.example/politique/retraites")

        assert result.title == TITLE_FR
        paragraphs = _paragraphs(result)
        assert paragraphs[0].startswith("La Première ministre")
        assert "Un report de l'âge légal" in paragraphs
        assert paragraphs[-1].startswith("Le projet sera présenté")
        for chrome in (
            "Lire aussi",
            "Partager",
            "Commentaires",
            "Les plus lus",
            "Accueil",
            "droits",
        ):
            assert chrome not in result.text
        assert result.language_hint == "fr"
        assert result.authors == ["Marie Dupont"]
        assert result.published_at == datetime(
            2023, 1, 10, 10, 30, tzinfo=timezone(timedelta(hours=1))
        )

    def test_naive_publication_time_is_taken_as_utc(self) -> None:
        page = ENGLISH_PAGE.replace("2023-11-02T08:15:00Z", "2023-11-02T08:15:00")

        published = clean_html(page).published_at

        assert published == datetime(2023, 11, 2, 8, 15, tzinfo=UTC)

    def test_title_from_h1_when_page_has_no_meta_title(self) -> None:
        body = "<p>" + "A sentence long enough to count as part of a real news story. " * 6 + "</p>"
        page = f"<html><body><article><h1>New bridge</h1>{body}</article></body></html>"

        result = clean_html(page)

        assert result.title == "New bridge"
        assert result.text.startswith("A sentence long enough")
        assert result.language_hint is None
        assert result.published_at is None or result.published_at.tzinfo is not None

    def test_title_that_is_only_the_site_name_is_skipped(self) -> None:
        body = "<p>" + "A sentence long enough to count as part of a real news story. " * 6 + "</p>"
        page = (
            '<html><head><title>The Daily Planet</title><meta property="og:site_name"'
            ' content="The Daily Planet"></head><body><div class="story">'
            f"<h2>Council approves bridge</h2>{body}</div></body></html>"
        )

        result = clean_html(page)

        assert result.title == "Council approves bridge"
        assert result.text.startswith("A sentence long enough")

    def test_fragment_without_html_skeleton(self) -> None:
        fragment = "<h1>Short headline</h1>" + "<p>Paragraph of an article body with words.</p>" * 8

        result = clean(fragment)

        assert result.title == "Short headline"
        assert result.text.count("Paragraph of an article") == 8


_HEADLINES = "".join(
    f'<li><a href="/news/{i}">Minister under pressure as inquiry into contract {i} widens</a></li>'
    for i in range(25)
)
HOME_PAGE = f"""<!DOCTYPE html><html lang="en"><head>
<title>The Daily Planet - News, sport and opinion</title></head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a>
</nav></header>
<main><h2>Top stories</h2><ul>{_HEADLINES}</ul><h2>Opinion</h2><ul>{_HEADLINES}</ul></main>
<footer>© 2024 The Daily Planet</footer></body></html>"""

LOGIN_WALL = """<!DOCTYPE html><html lang="en"><head><title>Sign in | The Ledger</title></head>
<body><header><a href="/">The Ledger</a></header>
<main><form action="/login" method="post"><h1>Sign in to continue reading</h1>
<p>This article is for subscribers only.</p>
<label>Email</label><input type="email" name="email"><label>Password</label><input type="password">
<button>Sign in</button><a href="/forgot">Forgot password?</a>
<a href="/subscribe">Subscribe for $1 a week</a>
</form></main></body></html>"""


class TestNotAnArticle:
    def test_home_page_of_links(self) -> None:
        with pytest.raises(NotAnArticle) as caught:
            clean_html(HOME_PAGE, "https://www.dailyplanet.example/")

        assert "mostly links" in caught.value.reason

    def test_login_wall(self) -> None:
        with pytest.raises(NotAnArticle) as caught:
            clean_html(LOGIN_WALL, "https://www.theledger.example/2024/01/story")

        assert caught.value.reason.startswith("text too short (")

    def test_empty_page(self) -> None:
        with pytest.raises(NotAnArticle, match="no article text found"):
            clean_html("<html><head><title>x</title></head><body></body></html>")

    def test_short_plain_text_says_how_short(self) -> None:
        with pytest.raises(NotAnArticle) as caught:
            clean_text("Headline\n\nOne short paragraph only.\n\nShare\n\nComments (2)")

        assert caught.value.reason == "text too short (25 chars)"
        assert str(caught.value) == caught.value.reason

    @pytest.mark.parametrize("content", ["", "   \n\n ", "Read more\n\nالأكثر قراءة\n0"])
    def test_nothing_left(self, content: str) -> None:
        with pytest.raises(NotAnArticle, match="no article text found"):
            clean(content)


FUNDING = "The project will be paid for by national grants and local borrowing, the council said."
ARTICLE_TEXT = (
    "The city council voted on Tuesday to approve the construction of a new pedestrian bridge "
    "across the river, ending a debate that has lasted for more than a decade."
)


class TestPlainText:
    def test_english_chrome_at_both_ends(self) -> None:
        text = "\n".join(
            [
                "Home", "News", "Local", "Sport",
                "Council approves new bridge",
                "Council approves new bridge",
                "Share", "12",
                ARTICLE_TEXT,
                "Funding",
                FUNDING,
                "Comments (3)", "Most read", "Follow us on Facebook", "Read more",
                "© 2024 Riverside Gazette",
            ]
        )  # fmt: skip

        result = clean_text(text)

        assert result.title == "Council approves new bridge"
        assert _paragraphs(result) == [
            ARTICLE_TEXT,
            "Funding",
            FUNDING,
        ]

    def test_french_chrome(self) -> None:
        text = (
            "Accueil | Politique | Économie | Société\n\nLe budget adopté\n\n"
            f"{ARTICLE_TEXT}\n\nPartager\n\n{ARTICLE_TEXT}\n\nCommentaires (2)\n\nLes plus lus\n"
            "Le prix de l'électricité augmentera en février\nGrève : trafic perturbé jeudi"
        )

        result = clean_text(text)

        assert result.title == "Le budget adopté"
        assert _paragraphs(result) == [ARTICLE_TEXT, ARTICLE_TEXT]

    def test_real_paragraphs_mentioning_chrome_words_stay(self) -> None:
        middle = [
            "Comments",
            "Readers left more than 3,000 comments (and 12 complaints) on the story.",
            "Share",
        ]
        text = "\n".join(["A headline", ARTICLE_TEXT, *middle, ARTICLE_TEXT])

        paragraphs = _paragraphs(clean_text(text))

        # A bare "Comments" between paragraphs may be a subheading: only edges are trimmed;
        # a bare "Share" button is chrome wherever it is.
        assert paragraphs == [ARTICLE_TEXT, *middle[:2], ARTICLE_TEXT]

    def test_text_without_a_title_line(self) -> None:
        result = clean_text(f"{ARTICLE_TEXT}\n\n{ARTICLE_TEXT}")

        # The first sentence, cut at the end of a clause.
        assert result.title == (
            "The city council voted on Tuesday to approve the construction of a new pedestrian"
            " bridge across the river…"
        )
        assert _paragraphs(result) == [ARTICLE_TEXT, ARTICLE_TEXT]

    def test_hard_wrapped_lines_are_joined(self) -> None:
        wrapped = (
            "The city council voted on Tuesday to approve the construction\n"
            "of a new pedestrian bridge across the river, ending a debate\n"
            "that has lasted for more than a decade."
        )

        result = clean_text(f"Bridge approved\n\n{wrapped}\n\n{ARTICLE_TEXT}")

        assert _paragraphs(result) == [ARTICLE_TEXT, ARTICLE_TEXT]

    def test_minimum_length_constant_is_applied(self) -> None:
        body = "x" * (MIN_ARTICLE_CHARS - 1)
        with pytest.raises(NotAnArticle):
            clean_text(f"Title\n{body}")
        assert clean_text(f"Title\n{body}x").text == body + "x"


ARABIC_BR_TITLE = "خسائر الحوثيين تتوالى والتحالف يضرب أهدافا عسكرية"
ARABIC_BR_PARAGRAPHS = [
    "أعلن التحالف أنه شن غارات على مواقع عسكرية في محافظة صعدة شمالي اليمن صباح الأحد، "
    "مستهدفا مخازن أسلحة ومنصات إطلاق صواريخ.",
    "وقال المتحدث باسم التحالف في مؤتمر صحفي إن الغارات جاءت ردا على إطلاق صواريخ باتجاه "
    "المدن الحدودية خلال الأيام الماضية.",
    "وأضاف أن العمليات ستستمر حتى تتوقف الهجمات، مشيرا إلى أن الأهداف اختيرت بعناية "
    "لتجنب إصابة المدنيين في المناطق المجاورة.",
    "من جهتها، قالت مصادر محلية إن الانفجارات سمعت في أنحاء المدينة، وإن فرق الإسعاف "
    "انتشرت في عدد من الأحياء.",
]
# Many Arabic sites print the story as loose text with <br> breaks, not <p>.
ARABIC_BR_PAGE = f"""<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>{ARABIC_BR_TITLE} | أخبار المثال</title></head><body>
<header><nav><a href="/">الرئيسية</a> <a href="/p">سياسة</a> <a href="/e">اقتصاد</a></nav></header>
<main><article><h1>{ARABIC_BR_TITLE}</h1><p class="date">نشر في 17 سبتمبر 2016</p>
<div class="article-body">{"<br><br>".join(ARABIC_BR_PARAGRAPHS)}</div>
<div class="comments">التعليقات (0)</div></article></main>
<footer><p>جميع الحقوق محفوظة © 2016</p></footer></body></html>"""


def test_a_story_in_loose_text_with_line_breaks_keeps_only_its_paragraphs() -> None:
    # trafilatura puts the headline and the date line after such a body
    result = clean_html(ARABIC_BR_PAGE, "https://news.example/ar/1")

    assert result.title == ARABIC_BR_TITLE
    assert _paragraphs(result) == ARABIC_BR_PARAGRAPHS
