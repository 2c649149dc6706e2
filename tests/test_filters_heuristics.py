"""Heuristic rules: each reject names its rule and value; bad input never crashes a filter."""
import pytest
from datatrove.data import Document

from curate.filters.heuristics import HeuristicFilter
from curate.filters.language import LanguageFilter

ARTICLE = (
    "The city council voted on Tuesday to extend the opening hours of the public library, which has been "
    "closed in the evenings since the budget cuts of the last decade. Residents had asked for evening access "
    "for years, and students who work during the day were among the loudest voices.\n\n"
    "The new schedule starts next month and will be reviewed after six months. The head librarian said that "
    "the extra hours would be staffed by two new assistants and by volunteers from the reading group, and "
    "that the children's room would stay open until seven on weekdays.\n\n"
    "Councillors also agreed to repair the roof of the reading room before the winter, with the work paid "
    "for from the maintenance fund rather than from the library's own budget."
)


def check(text, **params):
    doc = HeuristicFilter(**params).process(Document(text=text, id="d", metadata={}))
    return doc.metadata.get("rejected"), doc.metadata.get("rejected_detail"), doc.metadata["heuristics"]


def test_a_real_article_passes_and_records_its_values():
    reason, _, values = check(ARTICLE)
    assert reason is None
    assert values["n_words"] > 100 and 3 < values["mean_word_length"] < 10 and values["stop_words"] >= 2


@pytest.mark.parametrize("text, rule, detail", [
    ("Too short to keep.", "gopher_min_words", "n_words=4 < 50"),
    ("#tag " * 60 + ARTICLE, "gopher_max_hash_word_ratio", "hash_word_ratio="),
    ("\n".join(f"- item number {i} in the list of things" for i in range(30)), "gopher_max_bullet_lines", ">"),
    ("\n".join(f"and then the story of the village goes on through winter number {i}..." for i in range(30)),
     "gopher_max_ellipsis_lines", "ellipsis_lines_ratio=1.0 > 0.3"),
    (ARTICLE + "\nLorem ipsum dolor sit amet.", "c4_lorem_ipsum", "lorem ipsum"),
    (ARTICLE + "\n" + "Subscribe to our newsletter today.\n" * 8, "fineweb_max_dup_line_chars", "> 0.01"),
    (" ".join(["the committee of the region approved the funding"] * 30) + ".", "gopher_max_top_ngram_chars",
     "top_2gram_chars="),
])
def test_each_rule_names_itself_and_its_value(text, rule, detail):
    reason, why, _ = check(text)
    assert reason == rule and detail in why


def test_rules_are_configurable_and_can_be_turned_off():
    assert check("Too short to keep.")[0] == "gopher_min_words"
    assert check("Too short to keep.", gopher_min_words=None)[0] != "gopher_min_words"
    assert check(ARTICLE, gopher_min_words=1000)[:2] == ("gopher_min_words", "n_words=127 < 1000")


def test_bad_words_come_from_a_file(tmp_path):
    words = tmp_path / "bad.txt"
    words.write_text("# one per line\nreading room\nbudget\n")
    reason, detail, values = check(ARTICLE, c4_bad_words=str(words), c4_max_bad_words=2)
    assert reason == "c4_bad_words" and "bad_words=3 > 2" in detail and values["bad_words"] == 3


def test_repeated_ngrams_are_caught():
    text = ARTICLE + "\n\n" + ARTICLE.replace("\n\n", " ")
    reason, detail, _ = check(text, fineweb_max_dup_line_chars=None, gopher_max_dup_paragraphs=None,
                              gopher_max_dup_paragraph_chars=None)
    assert reason == "gopher_max_dup_ngram_chars" and detail.startswith("dup_5gram_chars=")


BAD_INPUT = {
    "empty": "",
    "huge_single_line": ("The quick brown fox jumps over the lazy dog and the cat. " * 90_000)[:5_000_000],
    "punctuation": "!!! ??? ... --- ;;; ((( ))) *** ### ,,, ...",
    "mixed_scripts": "Hello 你好 мир مرحبا hola שלום " * 20,
}


@pytest.mark.parametrize("kind", BAD_INPUT)
def test_bad_input_is_rejected_with_a_reason_not_a_crash(kind):
    text = BAD_INPUT[kind]
    expected = {
        "empty": ("empty_text", "empty_text"),
        "huge_single_line": (None, "gopher_max_words"),
        "punctuation": ("language_no_letters", "gopher_min_words"),
        "mixed_scripts": ("language_", "gopher_min_stop_words"),  # low score or not English: both name lang
    }[kind]
    for step, reason in zip((LanguageFilter(languages=["en"]), HeuristicFilter()), expected):
        (doc,) = list(step.run(iter([Document(text=text, id=kind, metadata={})])))
        got = doc.metadata.get("rejected")
        assert got == reason or (reason and got and got.startswith(reason) and "lang=" in
                                 doc.metadata["rejected_detail"]), (step.name, doc.metadata)


def test_a_missing_bad_word_list_fails_at_once(tmp_path):
    step = HeuristicFilter(c4_bad_words=str(tmp_path / "missing.txt"))
    with pytest.raises(FileNotFoundError):
        list(step.run(iter([Document(text=ARTICLE, id="d", metadata={})])))
