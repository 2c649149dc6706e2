"""Language ID on real-looking pages in 13 languages, and what a rejection says."""
import sys
from pathlib import Path

from datatrove.data import Document

from curate.filters.language import LanguageFilter

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


def test_pages_through_extract_and_language_stages(curate, tmp_path):
    """Real HTML pages (menu, article, footer) through `extract -> language`, scored from the shards."""
    import json

    import pyarrow.parquet as pq

    pages = tmp_path / "pages"
    pages.mkdir()
    truth = {}
    for i, (lang, text) in enumerate(PAGES):
        paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n"))
        (pages / f"{lang}-{i}.html").write_text(
            f"<html lang='{lang}'><head><meta charset='utf-8'><title>{text[:40]}</title></head><body>"
            f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article><h1>{text[:30]}</h1>{paragraphs}"
            f"</article><footer>© 2024</footer></body></html>", encoding="utf-8")
        truth[f"{lang}-{i}"] = lang
    spec = tmp_path / "langid.yaml"
    spec.write_text(json.dumps({"name": "langid", "input": {"path": str(pages), "format": "html"},
                                "output": str(tmp_path / "run"), "executor": {"tasks": 2},
                                "stages": [{"extract": {"favor_precision": False}},
                                           {"language": {"languages": [], "threshold": 0.0}}]}))
    curate("run", spec)
    found = {}
    for part in (tmp_path / "run" / "language").glob("part-*.parquet"):
        for row in pq.read_table(part, columns=["id", "lang"]).to_pylist():
            found[row["id"]] = row["lang"]
    correct = sum(found.get(page) == lang for page, lang in truth.items())
    print(f"page-level accuracy through the pipeline: {correct}/{len(truth)}")
    assert correct / len(truth) >= 0.97
