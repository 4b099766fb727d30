"""The numpy runtime must give the probabilities scikit-learn gives for the same model."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

from services.classifier.core import Classifier
from services.classifier.model import TopicModel, load_topic_models
from services.classifier.text import topic_features
from services.classifier.train import Blend, Recipe, export, fit, name_shares, topic_weights
from tests.paths import REPO

_WORDS = {
    "politics": "minister parliament election vote party government treaty",
    "economy": "bank market shares inflation profit trade company",
    "sports": "match goal league coach player cup season",
    "scitech": "software phone internet research computer data robot",
}
_COMMON = "the said on monday week report year people new"


def _synthetic(count: int, seed: int) -> tuple[list[list[str]], np.ndarray]:
    rng = random.Random(seed)
    topics = sorted(_WORDS)
    features, labels = [], []
    for _ in range(count):
        topic = rng.choice(topics)
        own = rng.choices(_WORDS[topic].split(), k=rng.randint(1, 6))
        noise = rng.choices(f"{_COMMON} {_WORDS[rng.choice(topics)]}".split(), k=8)
        features.append(topic_features(" ".join(own[:2]), " ".join(own[2:] + noise)))
        labels.append(topic)
    return features, np.array(labels)


class Trained(NamedTuple):
    vectorizer: Any  # scikit-learn ships no type information
    model: Any
    path: Path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    features, labels = _synthetic(400, seed=1)
    vectorizer, model = fit(features, labels, Recipe(min_df=2))
    path = tmp_path_factory.mktemp("models") / "topic-xx.npz"
    export(path, "xx", vectorizer, model)
    return Trained(vectorizer, model, path)


def test_numpy_inference_reproduces_sklearn(trained: Trained) -> None:
    vectorizer, model, path = trained
    runtime = TopicModel.load(path)
    features, _ = _synthetic(50, seed=2)
    expected = model.predict_proba(vectorizer.transform(features))
    assert runtime.topics == tuple(model.classes_)
    for row, sample in zip(expected, features, strict=True):
        got = runtime.probabilities(sample)
        assert got is not None
        # float16 coefficients: equal to about three decimals, same winner.
        assert np.allclose([got[t] for t in runtime.topics], row, atol=2e-3)
        assert max(got, key=got.__getitem__) == model.classes_[row.argmax()]


def test_export_is_byte_for_byte_reproducible(trained: Trained, tmp_path: Path) -> None:
    vectorizer, model, path = trained
    again = tmp_path / "topic-xx.npz"
    export(again, "xx", vectorizer, model)
    assert again.read_bytes() == path.read_bytes()
    assert TopicModel.load(again).version == TopicModel.load(path).version


def test_unknown_words_give_no_probabilities(trained: Trained) -> None:
    assert TopicModel.load(trained.path).probabilities(["zzz", "qqq"]) is None


def test_models_are_found_by_language(trained: Trained) -> None:
    models = load_topic_models(trained.path.parent)
    assert list(models) == ["xx"]
    assert len(models["xx"].version) == 12


def test_shipped_models_cover_arabic_and_english() -> None:
    models = load_topic_models()
    assert {"ar", "en"} <= set(models)
    for model in models.values():
        assert set(model.topics) == {"culture", "economy", "politics", "scitech", "sports"}


def test_services_do_not_need_scikit_learn() -> None:
    code = "import sys, services.classifier.app; sys.exit('sklearn' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False, cwd=REPO).returncode == 0


def test_a_models_directory_without_models_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no topic-<language>\.npz"):
        Classifier.load(tmp_path)


def test_words_dropped_by_max_df_are_ignored_alike(tmp_path: Path) -> None:
    features, labels = _synthetic(200, seed=3)
    features = [[*sample, "everywhere"] for sample in features]  # in every article
    vectorizer, model = fit(features, labels, Recipe(min_df=2, max_df=0.5))
    path = tmp_path / "topic-xx.npz"
    export(path, "xx", vectorizer, model)
    runtime = TopicModel.load(path)
    assert "everywhere" not in runtime.vocabulary
    assert "minister" in runtime.vocabulary
    expected = model.predict_proba(vectorizer.transform(features[:20]))
    for row, sample in zip(expected, features[:20], strict=True):
        got = runtime.probabilities(sample)
        assert got is not None
        assert np.allclose([got[t] for t in runtime.topics], row, atol=2e-3)


def test_topic_weights_favour_words_of_one_topic() -> None:
    features = [["goal", "week"], ["goal", "week"], ["bank", "week"], ["bank", "week"]]
    topics = np.array(["sports", "sports", "economy", "economy"])
    vectorizer = TfidfVectorizer(analyzer=lambda words: words)
    weights = dict(
        zip(
            vectorizer.fit(features).get_feature_names_out(),
            topic_weights(vectorizer.transform(features), topics),
            strict=True,
        )
    )
    assert weights["goal"] == pytest.approx(1.0, abs=0.01)
    assert weights["bank"] == pytest.approx(1.0, abs=0.01)
    assert weights["week"] == pytest.approx(0.0, abs=1e-9)  # in every article of both


def test_an_article_of_zero_weight_words_gets_the_intercepts_alone(tmp_path: Path) -> None:
    features, labels = _synthetic(200, seed=4)
    features = [[*sample, "everywhere"] for sample in features]  # topic weight 0
    vectorizer, model = fit(features, labels, Recipe(min_df=2))
    path = tmp_path / "topic-xx.npz"
    export(path, "xx", vectorizer, model)
    runtime = TopicModel.load(path)
    assert runtime.idf[runtime.vocabulary["everywhere"]] == 0.0
    got = runtime.probabilities(["everywhere"])
    assert got is not None
    expected = model.predict_proba(vectorizer.transform([["everywhere"]]))[0]
    assert np.allclose([got[t] for t in runtime.topics], expected, atol=2e-3)


def test_names_are_words_capitalised_inside_sentences() -> None:
    shares = name_shares(
        [
            "Voters backed Blair and Labour. Mr Blair said the vote was close.",
            'The vote was late. "Vote now," Blair said; Labour agreed. A labour market.',
        ]
    )
    assert shares["blair"] == 1.0  # always capitalised mid-sentence
    assert shares["vote"] == 0.0  # "Vote" opens a quotation: not counted
    assert "voters" not in shares  # only ever first in its sentence
    assert shares["labour"] == 0.5  # "and Labour", "A labour"; "; Labour" not counted


def test_a_recipe_without_names_leaves_them_out_of_the_vocabulary() -> None:
    features, labels = _synthetic(200, seed=5)
    features = [[*sample, "blair"] for sample in features]
    shares = {"blair": 0.97, "minister": 0.1}
    with_names, _ = fit(features, labels, Recipe(min_df=2), shares)
    without, _ = fit(features, labels, Recipe(min_df=2, max_name_share=0.8), shares)
    assert "blair" in with_names.vocabulary_
    assert "blair" not in without.vocabulary_
    assert "minister" in without.vocabulary_


def test_numpy_inference_reproduces_the_naive_bayes_blend(tmp_path: Path) -> None:
    features, labels = _synthetic(400, seed=6)
    vectorizer, blend = fit(features, labels, Recipe(min_df=2, naive_bayes_weight=0.5))
    assert isinstance(blend, Blend)
    path = tmp_path / "topic-xx.npz"
    export(path, "xx", vectorizer, blend)
    runtime = TopicModel.load(path)
    tests, _ = _synthetic(50, seed=7)
    matrix = vectorizer.transform(tests)
    # The blend as defined: geometric mean of the two scikit-learn models, renormalised.
    mean_log = 0.5 * blend.regression.predict_log_proba(matrix)
    mean_log += 0.5 * blend.naive_bayes.predict_log_proba(matrix)
    expected = np.exp(mean_log) / np.exp(mean_log).sum(axis=1, keepdims=True)
    assert np.allclose(blend.predict_proba(matrix), expected)
    for row, sample in zip(expected, tests, strict=True):
        got = runtime.probabilities(sample)
        assert got is not None
        assert np.allclose([got[t] for t in runtime.topics], row, atol=2e-3)
        assert max(got, key=got.__getitem__) == blend.classes_[row.argmax()]


def test_the_blend_differs_from_the_regression_alone() -> None:
    features, labels = _synthetic(400, seed=6)
    _, regression = fit(features, labels, Recipe(min_df=2))
    _, blend = fit(features, labels, Recipe(min_df=2, naive_bayes_weight=0.5))
    assert not np.allclose(blend.coef_, regression.coef_)
    assert np.allclose(blend.intercept_, 0.5 * regression.intercept_)
