"""Language ID on real-looking pages in 13 languages, and what a rejection says."""
import sys
from pathlib import Path

from datatrove.data import Document

from filters.language import LanguageFilter

sys.path.insert(0, str(Path(__file__).parent / "data"))
from langid_pages import PAGES  # noqa: E402


def run(step, texts):
    docs = [Document(text=t, id=str(i), metadata={}) for i, t in enumerate(texts)]
    return list(step.run(iter(docs)))


def test_page_level_accuracy_on_many_languages():
    languages = {lang for lang, _ in PAGES}
    assert len(languages) >= 8
    docs = run(LanguageFilter(languages=[], threshold=0.0), [text for _, text in PAGES])
    correct = sum(doc.metadata["lang"] == lang for doc, (lang, _) in zip(docs, PAGES))
    accuracy = correct / len(PAGES)
    print(f"language ID accuracy: {correct}/{len(PAGES)} = {accuracy:.3f} over {len(languages)} languages")
    assert accuracy >= 0.97
    assert all(0 < doc.metadata["lang_score"] <= 1 for doc in docs)


def test_keeps_configured_languages_and_says_why_others_go():
    docs = run(LanguageFilter(languages=["en", "de"], threshold=0.5), [text for _, text in PAGES])
    for doc, (lang, _) in zip(docs, PAGES):
        if lang in ("en", "de"):
            assert "rejected" not in doc.metadata, doc.metadata
        else:
            assert doc.metadata["rejected"] == "language_not_kept"
            assert doc.metadata["rejected_detail"].startswith(f"lang={lang} score=")


def test_threshold_rejects_unsure_pages():
    mixed = "Hello 你好 мир مرحبا hola"
    (doc,) = run(LanguageFilter(languages=[], threshold=0.9, thresholds={"en": 0.95}), [mixed])
    assert doc.metadata["rejected"] == "language_low_score"
    assert f"score={doc.metadata['lang_score']:.3f} <" in doc.metadata["rejected_detail"]
