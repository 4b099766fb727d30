from __future__ import annotations

import pytest

from services.classifier.core import (
    LANGUAGE_MIN_CONFIDENCE,
    Classifier,
    Labels,
    classify,
    detect_language,
)
from tests.paths import SEED

TOPICS = {"culture", "economy", "politics", "scitech", "sports"}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


def _classify(classifier: Classifier, title: str, text: str = "", **kwargs: float) -> Labels:
    return classify(title, text, classifier.detector, classifier.topic_models, **kwargs)


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        ("لافروف يطلب مشاركة عسكريين أمريكيين في مراقبة الهدنة", "", "ar"),
        ("Central bank holds interest rates steady", "Inflation eased in October.", "en"),
        ("Le maire sortant réélu au premier tour", "La participation a reculé.", "fr"),
        ("Спутник выведен на орбиту", "Запуск прошёл штатно.", "ru"),
        ("ایران و عراق توافق‌نامه همکاری امضا کردند", "", "fa"),
        ("وزیر اعظم نے نئی اقتصادی پالیسی کا اعلان کیا", "", "ur"),
        (
            "وزیر اعظم نے نئی اقتصادی پالیسی کا اعلان کیا",
            "وزیر اعظم نے آج اسلام آباد میں ایک پریس کانفرنس کے دوران نئی اقتصادی پالیسی کا"
            " اعلان کیا جس کے تحت چھوٹے کاروباروں کو ٹیکس میں چھوٹ دی جائے گی اور برآمدات"
            " بڑھانے کے لیے نئے اقدامات کیے جائیں گے۔",
            "ur",
        ),
        ("پاکستان اور چین کے درمیان تجارتی معاہدہ", "", "ur"),
        ("El festival de cine premia a una directora debutante", "", "es"),
    ],
)
def test_language_of_titles_and_texts(
    classifier: Classifier, title: str, text: str, expected: str
) -> None:
    language, confidence = detect_language(title, text, classifier.detector)
    assert language == expected
    assert confidence >= LANGUAGE_MIN_CONFIDENCE


def test_persian_quoting_one_urdu_word_stays_persian(classifier: Classifier) -> None:
    text = (
        "سازمان ملل متحد امروز اعلام کرد که گفت‌وگوهای صلح در ژنو ادامه خواهد داشت و نمایندگان"
        " دو طرف درباره آتش‌بس، بازگشت آوارگان و بازسازی شهرها گفت‌وگو می‌کنند. روزنامه"
        " «روزنامہ جنگ» چاپ لاهور نیز این خبر را منتشر کرد."
    )
    assert detect_language("گفت‌وگوهای صلح در ژنو", text, classifier.detector)[0] == "fa"


class _Fixed:
    def __init__(self, code: str, confidence: float) -> None:
        self.code, self.confidence = code, confidence

    def detect(self, text: str) -> tuple[str, float]:
        return self.code, self.confidence


def test_no_text_is_undetermined(classifier: Classifier) -> None:
    labels = _classify(classifier, "", "   ")
    assert (labels.language, labels.language_confidence) == ("und", 0.0)
    assert labels.topic is None
    assert labels.topic_reason == "language undetermined"


def test_low_confidence_is_undetermined_not_a_guess() -> None:
    labels = classify("Hallo", "", _Fixed("de", LANGUAGE_MIN_CONFIDENCE / 2), {})
    assert labels.language == "und"


def test_dialect_codes_map_to_iso_639_1() -> None:
    assert classify("إزيك", "", _Fixed("arz", 0.9), {}).language == "ar"


# Hand-written, not from the training data: one Arabic and one English headline a topic.
@pytest.mark.parametrize(
    ("title", "text", "topic"),
    [
        (
            "البرلمان يصوت على الحكومة الجديدة",
            "صوت مجلس النواب بالثقة على حكومة رئيس الوزراء بعد جلسة نقاش حول برنامجها الوزاري"
            " والإصلاحات السياسية.",
            "politics",
        ),
        (
            "البنك المركزي يرفع أسعار الفائدة لكبح التضخم",
            "قرر البنك المركزي رفع سعر الفائدة نصف نقطة مئوية، وتراجعت أسهم البنوك في البورصة.",
            "economy",
        ),
        (
            "ريال مدريد يفوز على برشلونة في الدوري",
            "سجل المهاجم هدفين في الشوط الثاني ليقود فريقه إلى الفوز في مباراة الكلاسيكو.",
            "sports",
        ),
        (
            "مهرجان القاهرة السينمائي يكرم الممثلة",
            "كرم المهرجان الفنانة عن مجمل أعمالها في السينما والدراما، بحضور نجوم الفن.",
            "culture",
        ),
        (
            "آبل تطلق هاتفا جديدا بتقنيات الذكاء الاصطناعي",
            "كشفت الشركة عن الهاتف الذي يعمل بمعالج أسرع وتطبيقات جديدة للإنترنت.",
            "scitech",
        ),
        (
            "Prime minister faces vote of confidence",
            "Opposition parties said the government had lost its majority in parliament ahead of"
            " the election.",
            "politics",
        ),
        (
            "Shares fall as inflation fears hit markets",
            "The central bank is expected to raise interest rates; company profits slowed.",
            "economy",
        ),
        (
            "Late goal sends United into the cup final",
            "The striker scored in injury time and the coach praised his players after the match.",
            "sports",
        ),
        (
            "Film star wins best actress award",
            "The actress thanked the director of the film at the ceremony; the album and the"
            " music of the soundtrack were also nominated.",
            "culture",
        ),
        (
            "New smartphone software fixes security flaw",
            "Users of the phone can download the update; the company said hackers had exploited"
            " the bug in its computer systems.",
            "scitech",
        ),
    ],
)
def test_topic_of_hand_written_articles(
    classifier: Classifier, title: str, text: str, topic: str
) -> None:
    labels = _classify(classifier, title, text)
    assert labels.topic == topic, labels.topic_probabilities
    assert labels.needs_review is False
    assert labels.topic_reason is None
    assert set(labels.topic_probabilities) == TOPICS
    assert sum(labels.topic_probabilities.values()) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.skipif(not SEED.exists(), reason="seed article not beside the checkout")
def test_seed_article_is_arabic_politics(classifier: Classifier) -> None:
    title, _, body = SEED.read_text(encoding="utf-8").partition("\n")
    labels = _classify(classifier, title, body)
    assert labels.language == "ar"
    assert labels.language_confidence > 0.9
    assert labels.topic == "politics"
    assert labels.topic_confidence is not None
    assert labels.topic_confidence > 0.5
    version = classifier.topic_models["ar"].version
    assert labels.model_version == f"lid176-lite+urdu-letters;topic-ar:{version}"


def test_below_the_threshold_the_topic_is_left_for_review(classifier: Classifier) -> None:
    title, text = "Late goal sends United into the cup final", "The striker scored."
    sure = _classify(classifier, title, text)
    assert sure.topic_confidence is not None
    unsure = _classify(classifier, title, text, min_topic_confidence=sure.topic_confidence + 1e-3)
    assert unsure.topic is None
    assert unsure.needs_review is True
    assert unsure.topic_confidence == sure.topic_confidence
    assert unsure.topic_probabilities == sure.topic_probabilities
    assert unsure.topic_reason is not None
    assert "below" in unsure.topic_reason


def test_language_without_a_model_gets_no_topic(classifier: Classifier) -> None:
    labels = _classify(classifier, "Le maire sortant réélu au premier tour", "La participation.")
    assert labels.language == "fr"
    assert (labels.topic, labels.topic_probabilities, labels.needs_review) == (None, {}, False)
    assert labels.topic_reason == "no topic model for language 'fr'"
    assert labels.model_version == "lid176-lite+urdu-letters;topic:none"


def test_no_known_word_needs_review(classifier: Classifier) -> None:
    labels = classify("Xqzv wrpt", "", _Fixed("en", 0.9), classifier.topic_models)
    assert labels.topic is None
    assert labels.needs_review is True
    assert labels.topic_reason == "no word the topic model knows"


class _Recording:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def detect(self, text: str) -> tuple[str, float]:
        self.seen.append(text)
        return "en", 0.9


def test_the_detector_reads_the_collapsed_opening_only() -> None:
    detector = _Recording()
    detect_language("Central  bank\n holds", "rates " * 500, detector)
    detect_language("Wide", " \n" * 900 + "words after a long blank stretch", detector)
    assert detector.seen == [
        ("Central bank holds " + "rates " * 20)[:80],  # fastText's cap, whitespace collapsed
        "Wide words after a long blank stretch",  # found past the usual opening
    ]


def test_urdu_letters_past_the_detectors_opening_still_count() -> None:
    persian_opening = "ایران و عراق توافق‌نامه همکاری امضا کردند " * 3
    urdu_body = "وزیر اعظم نے نئی اقتصادی پالیسی کا اعلان کیا " * 10
    language, _ = detect_language(persian_opening, urdu_body, _Fixed("fa", 0.9))
    assert language == "ur"
