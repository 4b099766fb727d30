"""Site "chrome": navigation, counters, share buttons and teasers around an article.

Both cleaner paths end up with a list of paragraphs that may still start with a
menu and end with "Most read" boxes, comment counters or a copyright line. This
module recognises such lines with one table of patterns (:data:`CHROME_RULES`,
Arabic, English and French) plus a few layout rules (emoji-led menu entries,
breadcrumbs, runs of one-word menu items), and trims them.

Paragraphs are expected to be :func:`~services.cleaner.normalize.normalize`-d.
Real paragraphs are never touched: most rules only apply at the very start or end
of the text; only rules marked ``anywhere`` (unambiguous furniture such as
"Advertisement" or a bare "Share") also drop lines in the middle.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "CHROME_RULES",
    "ChromeRule",
    "is_chrome",
    "is_credited_caption",
    "strip_chrome",
    "strip_leading_chrome",
    "strip_trailing_chrome",
]


def _arabic_fold(text: str) -> str:
    """Undo the spelling variation Arabic UI strings show: hamza on alef, final
    ya/alef maqsura, diacritics (tanween in "أيضاً") and tatweel."""
    text = re.sub(r"[\u064b-\u0652\u0670\u0640]", "", text)
    return text.translate(str.maketrans("أإآى", "اااي"))


@dataclass(frozen=True, slots=True)
class ChromeRule:
    """One kind of chrome line.

    ``pattern`` must match the whole line once it is case-folded, its leading
    emoji/bullets and trailing punctuation are removed and Arabic spelling
    variants are folded (the pattern gets the same folding, so it can be written
    naturally). ``anywhere`` marks lines that are chrome wherever they appear.
    """

    name: str
    pattern: str
    anywhere: bool = False
    max_chars: int = 80
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # frozen dataclass: compile once, here, rather than on every line
        object.__setattr__(self, "regex", re.compile(_arabic_fold(self.pattern.casefold())))

    def matches(self, key: str) -> bool:
        return len(key) <= self.max_chars and self.regex.fullmatch(key) is not None


def _any(*phrases: str) -> str:
    return "(?:" + "|".join(phrases) + ")"


_COMMENT_WORDS = _any(
    "التعليقات", "تعليقات", "تعليق", "comments?", "commentaires?", "réactions?", "replies"
)  # fmt: skip
_PLATFORMS = _any(
    "facebook", "twitter", "x", "whatsapp", "telegram", "linkedin", "reddit", "messenger",
    "pinterest", "email", "e-mail", "instagram", "youtube", "tiktok", "فيسبوك", "تويتر",
    "واتساب", "تيليجرام", "تلغرام", "انستغرام", "يوتيوب",
)  # fmt: skip
# "Facebook, X and Instagram", "تويتر وفيسبوك", "Facebook et X"
_PLATFORM_LIST = rf"{_PLATFORMS}(?:(?:,| and| &| et| و) ?{_PLATFORMS})*"

CHROME_RULES: tuple[ChromeRule, ...] = (
    # "التعليقات (0)", "Comments (3)", "12 commentaires": counters, never prose.
    ChromeRule(
        "comment_counter",
        rf"{_COMMENT_WORDS}\s*[(\[]?\s*\d+\s*[)\]]?|[(\[]?\d+[)\]]?\s*{_COMMENT_WORDS}",
        anywhere=True,
    ),
    ChromeRule(
        "comments_section",
        _any(
            _COMMENT_WORDS,
            "leave a (comment|reply)",
            "add a comment",
            "join (the|our) (conversation|discussion|debate|commenting forum)",
            "أضف تعليق[اً]?",
            "اترك تعليقا",
            "اكتب تعليقك",
            "laisser un commentaire",
            "ajouter un commentaire",
            "réagir",
        ),
    ),
    # Like counters and comment counts left alone on a line by the flattening.
    ChromeRule("lone_number", r"[\d\s.,:/%+-]*\d[\d\s.,:/%+-]*[kmك]?"),
    # A separator ("___", "* * *", "•••"): no word in it, wherever it stands.
    ChromeRule("separator", r"(?:_|[^\w])*", anywhere=True),  # not \W: patterns are case-folded
    ChromeRule(
        "most_read",
        _any(
            "الأكثر (قراءة|مشاهدة|تداولا|تعليقا|شعبية|قراءه)",
            "الأكثر قراءة اليوم",
            "most (read|popular|viewed|shared|commented)",
            "trending( now| stories)?",
            "popular (now|stories|today)",
            "les plus (lus|populaires|partagés|commentés|vus)",
            "tendances?",
        ),
    ),
    ChromeRule(
        "related",
        _any(
            "أهم (المواضيع|التصنيفات|الأخبار|العناوين)",
            "آخر (الأخبار|المقالات|المواضيع)",
            "(مواضيع|مقالات|أخبار) (ذات صلة|متعلقة|مشابهة)",
            "قد يهمك( أيضا)?",
            "ننصحك بقراءة",
            "الوسوم",
            "وسوم",
            "كلمات (مفتاحية|دلالية)",
            "التصنيفات",
            "اقرأ أيضا",
            "latest( news| stories)?",
            "top stories",
            "(related|similar) (articles|stories|news|posts|topics|content|coverage)",
            "related",
            "more (stories|news|articles|on this story|from [\\w .'-]{1,40})",
            "tags?",
            "topics",
            "keywords",
            "see also",
            "read also",
            "also read",
            "you (may|might) also (like|enjoy)",
            "recommended( for you| stories)?",
            "editor'?s picks",
            "don'?t miss",
            "à lire (aussi|également)",
            "lire aussi",
            "sur le même sujet",
            "dans la même rubrique",
            "à la une",
            "voir aussi",
            "dernières (nouvelles|actualités|infos)",
            "mots[- ]clés",
            "thèmes",
            "sujets",
            "nos (articles|contenus) (recommandés|similaires)",
        ),
    ),
    ChromeRule(
        "read_more",
        _any(
            "read more",
            "read (the )?full (story|article)",
            "continue reading",
            "show more",
            "load more",
            "see more",
            "view more",
            "اقرأ المزيد",
            "المزيد",
            "عرض المزيد",
            "شاهد المزيد",
            "التفاصيل",
            "lire la suite",
            "lire plus",
            "en savoir plus",
            "voir plus",
            "afficher plus",
        ),
    ),
    # "Follow us on Twitter and Facebook" between paragraphs: naming a network, never
    # prose. (The wider "follow" rule below is only trusted at the edges.)
    ChromeRule(
        "follow_on_social",
        _any(
            rf"follow us on {_PLATFORM_LIST}",
            rf"تابع(?:نا|ونا) (?:على|عبر) {_PLATFORM_LIST}",
            rf"suivez[- ]nous sur {_PLATFORM_LIST}",
        ),
        anywhere=True,
        max_chars=120,
    ),
    # "Read also: <other headline>" teasers dropped into the body.
    ChromeRule(
        "read_also_teaser",
        r"(?:اقرأ أيضا|اقرأ كذلك|شاهد أيضا|read also|also read|read more|see also|related"
        r"|lire aussi|à lire aussi|à lire également|voir aussi)\s*[:：-]\s*\S.*",
        anywhere=True,
        max_chars=220,
    ),
    ChromeRule(
        "share",
        _any(
            rf"share( (this|the) (article|story|post|page))?( (on|via) {_PLATFORMS})?",
            _PLATFORMS,
            "tweet",
            "pin it",
            "copy (link|url)",
            "print",
            "طباعة",
            "شارك( (الخبر|المقال|على [\\w ]{1,20}))?",
            "مشاركة( (الخبر|المقال))?",
            "(ا?نسخ|نسخ) الرابط",
            "partager( (l'article|sur [\\w ]{1,20}))?",
            "partagez( (l'article|cet article))?",
            "copier le lien",
            "imprimer",
        ),
        anywhere=True,
    ),
    ChromeRule(
        "follow",
        _any(
            "follow us( on [\\w ,]{1,40})?",
            "تابع(نا|ونا)( على [\\w ،,]{1,40})?",
            "suivez[- ]nous( sur [\\w ,]{1,40})?",
            "subscribe( now| today)?",
            "subscribe to (our|the) newsletter",
            "sign up( (for|to) (our|the) newsletter)?",
            "newsletter",
            "النشرة (البريدية|الإخبارية)",
            "اشترك( الآن| في النشرة البريدية)?",
            "abonnez[- ]vous( à (notre|la) newsletter)?",
            "s'abonner",
            "inscrivez[- ]vous( à (notre|la) newsletter)?",
            "join (us|our (newsletter|channel))( on [\\w ]{1,40})?",
        ),
    ),
    ChromeRule(
        "navigation",
        _any(
            "home( ?page)?",
            "(main )?menu",
            "search",
            "sign (in|up|out)",
            "log ?(in|out)",
            "register",
            "my account",
            "skip to (main )?content",
            "back to top",
            "close",
            "الرئيسية",
            "الصفحة الرئيسية",
            "(ال)?قائمة( الرئيسية)?",
            "بحث",
            "ابحث",
            "تسجيل (الدخول|الخروج)",
            "حسابي",
            "إغلاق",
            "العودة (للأعلى|إلى الأعلى)",
            "accueil",
            "rechercher",
            "recherche",
            "se (connecter|déconnecter)",
            "connexion",
            "mon compte",
            "fermer",
            "retour en haut",
            "aller au contenu( principal)?",
        ),
    ),
    # Section names: a category kicker above the title or a menu entry. Edge only,
    # so a subheading called "Economy" in the middle of a story survives.
    ChromeRule(
        "section_name",
        _any(
            "أخبار",
            "سياسة",
            "اقتصاد",
            "رياضة",
            "ثقافة",
            "فن",
            "فنون",
            "تكنولوجيا",
            "علوم",
            "صحة",
            "منوعات",
            "مقالات",
            "رأي",
            "عربي",
            "دولي",
            "عالمي",
            "محليات",
            "فيديو",
            "صور",
            "news",
            "politics",
            "business",
            "economy",
            "markets",
            "sports?",
            "world",
            "tech(nology)?",
            "science",
            "culture",
            "arts",
            "entertainment",
            "lifestyle",
            "health",
            "opinion",
            "videos?",
            "photos",
            "politique",
            "économie",
            "international",
            "société",
            "monde",
            "sciences",
            "santé",
            "vidéos",
            "opinions",
        ),
    ),
    # "Published 1 March 2024", "Mis à jour le 10/01 à 10h30", "آخر تحديث: 12:30".
    # A digit is required: "نشر الوثائق..." (a subheading) also starts with "published".
    ChromeRule(
        "dateline",
        r"(?:published|updated|last updated|posted|publié|mis à jour|modifié|نشر|نُشر|آخر تحديث"
        r"|تاريخ النشر)\b[^\d]{0,30}\d.{0,50}",
    ),
    ChromeRule(
        "advertisement",
        _any(
            "advertisement",
            "advertising",
            "sponsored( content)?",
            "ad",
            "إعلان",
            "اعلان",
            "محتوى (ممول|إعلاني)",
            "publicité",
            "pub",
            "contenu sponsorisé",
            "annonce",
        ),
        anywhere=True,
    ),
    # The newsroom's standards notice under every story ("Our Standards: The Thomson
    # Reuters Trust Principles.", "Nos standards : ...", "معاييرنا"): edge only.
    ChromeRule(
        "standards",
        r"(?:(?:our|editorial) (?:standards|principles|guidelines)|nos (?:standards|normes"
        r"|principes)|معاييرنا|المعايير التحريرية)(?: ?[:：-] ?.{1,100})?",
        max_chars=140,
    ),
    # The word "copyright" alone is not a notice: news about copyright starts with it
    # too. A notice has the sign, a year after the word, or is a short line led by it.
    ChromeRule(
        "copyright",
        r".{0,80}(?:©|\(c\) ?\d{4}|copyright (?:\(c\) )?\d{4}|all rights reserved"
        r"|(جميع|كل) الحقوق محفوظة|tous droits réservés).{0,150}|copyright\b.{0,40}",
        max_chars=240,
    ),
)

_LONGEST_CHROME = max(rule.max_chars for rule in CHROME_RULES) + 20  # + emoji, spaces

# Leading emoji, bullets, arrows and punctuation; trailing punctuation and arrows.
# Brackets are kept so that "التعليقات (0)" still reads as a counter, and © for copyright.
_LEADING_JUNK_RE = re.compile(r"^[^\w(\[©]+")
_TRAILING_JUNK_RE = re.compile(r"[^\w)\]%]+$")
_SPACES_RE = re.compile(r"\s+")

# A breadcrumb or inline menu: "Home › World › Middle East", "سياسة | اقتصاد | رياضة".
_MENU_SEPARATOR_RE = re.compile(r"\s+[|•»›>·/]\s+|\s*[|•»›·]\s*")
_MENU_ITEM_MAX_WORDS = 3
_MENU_SEPARATED_MIN_ITEMS = 3
# Consecutive one- or two-word lines at the edges of a text are a flattened menu
# ("Home", "World", "Sport"); three in a row rules out a lone short subheading.
_MENU_RUN_MIN = 3
_MENU_RUN_ITEM_MAX_WORDS = 2
_MENU_RUN_ITEM_MAX_CHARS = 25
# An emoji-led line this short is a menu/section label ("💡 أهم المواضيع").
_EMOJI_LABEL_MAX_WORDS = 6
# After a "Most read"/"Related" opener at the end, only headline-sized lines follow.
_HEADLINE_MAX_CHARS = 160
_SENTENCE_END = (".", "。", "!", "…")

# A photo's credit line under its caption: "Credit: Ian West/PA Wire", "Photograph:
# Jane Doe/AP", "Crédit photo : AFP", "تصوير: ...".
_PHOTO_CREDIT_RE = re.compile(
    r"(?:credit|photo(?:graph)?|picture|image|crédits?(?: photo)?|تصوير|الصورة)s?"
    r"\s*[:：]\s*\S.{0,100}",
    re.IGNORECASE,
)
_CAPTION_MAX_CHARS = 400

# Chrome that is also a menu entry, so it extends a run of menu items.
_MENU_RULES = frozenset({"navigation", "section_name"})

# Rules that open a trailing block of teasers: everything after them is dropped when
# it is only headlines and chrome.
_SECTION_OPENERS = frozenset(
    {"comment_counter", "comments_section", "most_read", "related", "read_more", "follow"}
)


def _key(line: str) -> str:
    # Lines come from normalize() already (see the module docstring).
    key = _SPACES_RE.sub(" ", line.casefold())
    key = _TRAILING_JUNK_RE.sub("", _LEADING_JUNK_RE.sub("", key))
    return _arabic_fold(key)


def _matching_rule(line: str, *, anywhere_only: bool = False) -> ChromeRule | None:
    if len(line) > _LONGEST_CHROME:
        return None  # the common case, a real paragraph: skip the regexes
    key = _key(line)
    for rule in CHROME_RULES:
        if (rule.anywhere or not anywhere_only) and rule.matches(key):
            return rule
    return None


def _is_emoji_label(line: str) -> bool:
    stripped = line.lstrip()
    if not stripped or len(stripped.split()) > _EMOJI_LABEL_MAX_WORDS:
        return False
    return unicodedata.category(stripped[0]) == "So"


def _is_menu_line(line: str) -> bool:
    items = [item for item in _MENU_SEPARATOR_RE.split(line) if item.strip()]
    return len(items) >= _MENU_SEPARATED_MIN_ITEMS and all(
        len(item.split()) <= _MENU_ITEM_MAX_WORDS for item in items
    )


def _line_is_chrome(line: str) -> bool:
    if not _key(line):
        return True  # only symbols: a decorative separator or a lone emoji
    return _matching_rule(line) is not None or _is_emoji_label(line) or _is_menu_line(line)


def is_chrome(paragraph: str, *, anywhere_only: bool = False) -> bool:
    """Whether every line of ``paragraph`` is chrome.

    With ``anywhere_only`` only the unambiguous rules count (those safe to apply in
    the middle of a text); otherwise edge rules and layout rules count too.
    """
    lines = [line for line in paragraph.splitlines() if line.strip()]
    if anywhere_only:
        return bool(lines) and all(_matching_rule(x, anywhere_only=True) for x in lines)
    if len(lines) >= _MENU_RUN_MIN and all(_is_menu_item(x) for x in lines):
        return True  # a whole menu flattened into one block
    return all(_line_is_chrome(line) for line in lines)


def _is_menu_item(line: str) -> bool:
    """A line that could be one entry of a flattened menu ("World", "Sport", "Home").

    Other chrome (a "Share" button, a counter) does not extend a menu: a short title
    followed by "Share" and "12" is not a three-entry menu.
    """
    words = line.split()
    if not 0 < len(words) <= _MENU_RUN_ITEM_MAX_WORDS or len(line) > _MENU_RUN_ITEM_MAX_CHARS:
        return False
    rule = _matching_rule(line)
    return rule is None or rule.name in _MENU_RULES


def _menu_run_length(paragraphs: Sequence[str], start: int, step: int) -> int:
    """Length of the run of menu-item paragraphs from ``start`` in direction ``step``."""
    index, run = start, 0
    while 0 <= index < len(paragraphs) and _is_menu_item(paragraphs[index]):
        index += step
        run += 1
    return run if run >= _MENU_RUN_MIN else 0


def strip_leading_chrome(paragraphs: Sequence[str]) -> list[str]:
    """Drop chrome and menu runs before the first real line."""
    start = 0
    while start < len(paragraphs):
        if run := _menu_run_length(paragraphs, start, 1):
            start += run  # checked first: a menu often starts with chrome ("Home")
        elif is_chrome(paragraphs[start]):
            start += 1
        else:
            break
    return list(paragraphs[start:])


def _is_teaser(paragraph: str) -> bool:
    """A line that could be a headline in a "Most read" list, not the end of a story."""
    return all(
        len(line) <= _HEADLINE_MAX_CHARS and not line.rstrip().endswith(_SENTENCE_END)
        for line in paragraph.splitlines()
    )


def _teaser_block_start(paragraphs: Sequence[str]) -> int | None:
    """Index of a section opener ("Most read", "Related"...) followed only by
    headlines and chrome, or None. Index 0 is never returned: that is all the text."""
    start = None
    for index in range(len(paragraphs) - 1, 0, -1):
        paragraph = paragraphs[index]
        rule = _matching_rule(paragraph)
        if rule is not None and rule.name in _SECTION_OPENERS:
            start = index
        elif not (_is_teaser(paragraph) or is_chrome(paragraph)):
            break
    return start


def strip_trailing_chrome(paragraphs: Sequence[str]) -> list[str]:
    """Drop chrome at the end, including "Most read"-style blocks of other headlines."""
    kept = list(paragraphs)
    while kept:
        if run := _menu_run_length(kept, len(kept) - 1, -1):
            del kept[-run:]
        elif is_chrome(kept[-1]):
            kept.pop()
        elif (block := _teaser_block_start(kept)) is not None:
            del kept[block:]
        else:
            break
    return kept


def _drop(paragraphs: Sequence[str], unwanted: Callable[[str], bool]) -> list[str]:
    return [paragraph for paragraph in paragraphs if not unwanted(paragraph)]


def is_credited_caption(paragraph: str) -> bool:
    """A photo caption kept with its credit line ("Raye at the Brit Awards" then
    "Credit: Ian West/PA Wire"): a short block whose last line credits a photo."""
    lines = paragraph.splitlines()
    return (
        len(lines) >= 2
        and len(paragraph) <= _CAPTION_MAX_CHARS
        and _PHOTO_CREDIT_RE.fullmatch(lines[-1].strip()) is not None
    )


def _is_unambiguous_chrome(paragraph: str) -> bool:
    return is_chrome(paragraph, anywhere_only=True) or is_credited_caption(paragraph)


def strip_chrome(paragraphs: Sequence[str]) -> list[str]:
    """Remove unambiguous chrome (and credited photo captions) anywhere, then chrome
    at the start and the end."""
    kept = _drop(paragraphs, _is_unambiguous_chrome)
    return strip_trailing_chrome(strip_leading_chrome(kept))
