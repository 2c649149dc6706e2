"""The fast extractor: resiliparse's main-content heuristics over its C HTML parser (lexbor).

Article settings: main content only, without alt texts, links, form fields, `<noscript>`, comment
sections or the post's meta line (byline, date), the parts the article-extraction benchmark's
ground truth leaves out. resiliparse is an optional dependency (`pip install 'curate[extract]'`).
"""
ARTICLE = dict(main_content=True, preserve_formatting=True, list_bullets=False, alt_texts=False, links=False,
               form_fields=False, noscript=False, comments=False, post_meta=False)


def available() -> bool:
    try:
        import resiliparse.extract.html2text  # noqa: F401
    except ImportError:
        return False
    return True


def resiliparse_text(html: str) -> str:
    from resiliparse.extract.html2text import extract_plain_text

    return extract_plain_text(html, **ARTICLE)
