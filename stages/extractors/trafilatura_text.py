"""The balanced extractor: trafilatura's main-text extraction, its own metadata search left out.

Importing it puts `trafilatura_rules` (the same discard rules, a quarter of their time) into trafilatura."""
import trafilatura

from curate.stages.extractors import trafilatura_rules

trafilatura_rules.install()


def trafilatura_text(page, url=None, favor_precision=True, favor_recall=False, include_comments=False,
                     include_tables=True, include_links=False, deduplicate=False) -> str:
    """Main text of `page` (an HTML string, or the tree `trafilatura.load_html` made of it: trafilatura
    copies a tree before it prunes one), or "" when trafilatura finds none."""
    result = trafilatura.bare_extraction(
        page, url=url, favor_precision=favor_precision, favor_recall=favor_recall, include_comments=include_comments,
        include_tables=include_tables, include_links=include_links, deduplicate=deduplicate, with_metadata=False)
    return (result.text or "") if result else ""
