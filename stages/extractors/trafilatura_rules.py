"""trafilatura's three costliest discard rules as attribute checks in Python, with the XPath's exact meaning.

On documentation-like pages (large trees, many attributes) a third of trafilatura's time goes to
`OVERALL_DISCARD_XPATH` and `PRECISION_DISCARD_XPATH`: their EXSLT `re:test` calls back into Python's
`re` once per element per test, through lxml's extension machinery. Here each rule walks the tree
once and tests the same strings with the same compiled patterns, returning the same elements in the
same (document) order, so trafilatura prunes exactly what it would have.

What the XPath means, reproduced:
- `.//*[self::div or ...]`: descendants of the context element (not itself) with those names;
  `.//*`: every descendant element (comments and processing instructions are not `*`);
- `string(@id|@class)` (in `re:test(@id|@class, ...)`, `starts-with(@id|@class, ...)`): the value
  of whichever of the two comes first on the element, "" when neither is there;
- `re:test(s, p)`: `re.search(p, s)`; `contains(@a, s)`, `@a='s'`, `translate(@a, 'N', 'n')`: the
  attribute's value ("" when absent; `@a='s'` is false when absent).

The rules replace trafilatura's only where the installed trafilatura's expression has the structure
these functions implement (`RULES`: the XPath with its string literals blanked); its literals
(class names, patterns) are read from the expression itself. Any other trafilatura keeps its XPath.
`tests/test_trafilatura_rules.py` checks element-for-element equality on real pages and fuzzed trees.
"""
import re
from contextlib import contextmanager

from lxml import etree

BLOCKS = ("div", "item", "list", "p", "section", "span")
_LITERAL = re.compile(r"'([^']*)'")

def skeleton(path: str) -> str:
    """An XPath's structure: its string literals blanked, its whitespace collapsed."""
    return " ".join(_LITERAL.sub("''", path).split())


def first_of(attrs: dict, a: str, b: str) -> str:
    """XPath's string value of `@a|@b`: the value of whichever of the two comes first on the element
    (`attrs`: its attributes, in their order on it), "" when it has neither."""
    value_a, value_b = attrs.get(a), attrs.get(b)
    if value_a is None or value_b is None:
        return value_b or "" if value_a is None else value_a
    for key in attrs:
        if key == a or key == b:
            return attrs[key]


def walk(tags: tuple[str, ...] | None, matches):
    """A rule: the descendants with those tags (None: every element), in document order, whose
    attributes (a dict, in their order on the element) `matches` accepts."""
    def rule(tree) -> list:
        found = []
        for el in tree.iterdescendants(tags) if tags else tree.iterdescendants(etree.Element):
            attrs = dict(el.items())
            if attrs and matches(attrs):
                found.append(el)
        return found
    return rule


def overall_boilerplate(literals: list[str]):
    """Navigation, sharing, cookie, ad, footer... blocks (`OVERALL_DISCARD_XPATH[0]`)."""
    upper, lower, nav, component, cookie, ids, classes = literals
    cookie, ids, classes = re.compile(cookie), re.compile(ids), re.compile(classes)
    return walk(BLOCKS, lambda attrs: (
        "data-lp-replacement-content" in attrs or nav in attrs.get("role", "").replace(upper, lower)
        or component in attrs.get("data-component", "") or cookie.search(first_of(attrs, "id", "class"))
        or ids.search(attrs.get("id", "")) or classes.search(attrs.get("class", ""))))


def overall_hidden(literals: list[str]):
    """Comment titles, replies, hidden and aria-hidden elements (`OVERALL_DISCARD_XPATH[1]`)."""
    title, reply, hidden, style_a, style_b, ids, classes, aria = literals
    hidden, ids, classes = re.compile(hidden), re.compile(ids), re.compile(classes)
    return walk(None, lambda attrs: (
        attrs.get("class") == title or first_of(attrs, "id", "class").startswith(reply)
        or hidden.search(first_of(attrs, "id", "style")) or style_a in attrs.get("style", "")
        or style_b in attrs.get("style", "") or ids.search(attrs.get("id", ""))
        or classes.search(attrs.get("class", "")) or attrs.get("aria-hidden") == aria))


def precision_bottom_links(literals: list[str]):
    """`bottom` and `link` blocks and bordered boxes, pruned when favouring precision
    (`PRECISION_DISCARD_XPATH[1]`)."""
    bottom, link, border = literals
    bottom, link = re.compile(bottom), re.compile(link)

    def matches(attrs: dict) -> bool:
        key = first_of(attrs, "id", "class")
        return bool(bottom.search(key) or link.search(key) or border in attrs.get("style", ""))
    return walk(BLOCKS, matches)


# (trafilatura's list, index) -> (the structure of the XPath a rule implements, the rule's maker)
RULES = {
    ("OVERALL_DISCARD_XPATH", 0): (
        ".//*[self::div or self::item or self::list or self::p or self::section or self::span][ "
        "@data-lp-replacement-content or contains(translate(@role, '', ''), '') or "
        "contains(@data-component, '') or re:test(@id|@class, '') or re:test(@id, '') or re:test(@class, '')]",
        overall_boilerplate),
    ("OVERALL_DISCARD_XPATH", 1): (
        ".//*[@class='' or starts-with(@id|@class, '') or re:test(@id|@style, '') or contains(@style, '') or "
        "contains(@style, '') or re:test(@id, '') or re:test(@class, '') or @aria-hidden='']",
        overall_hidden),
    ("PRECISION_DISCARD_XPATH", 1): (
        ".//*[self::div or self::item or self::list or self::p or self::section or self::span][ "
        "re:test(@id|@class, '') or re:test(@id|@class, '') or contains(@style, '')]",
        precision_bottom_links),
}


def install() -> list[str]:
    """Put the rules in trafilatura's lists (in place: its modules hold the same list objects) where the
    installed expression has the expected structure; returns the names of those replaced."""
    from trafilatura import xpaths

    replaced = []
    for (name, index), (structure, make) in RULES.items():
        expressions = getattr(xpaths, name, None)
        if not isinstance(expressions, list) or len(expressions) <= index:
            continue
        current = expressions[index]
        path = getattr(current, "path", None)
        if isinstance(current, etree.XPath) and skeleton(path) == structure:
            rule = make(_LITERAL.findall(path))
            rule.path, rule.xpath = path, current  # what it stands for (tests compare the two)
            expressions[index] = rule
            replaced.append(f"{name}[{index}]")
    return replaced


@contextmanager
def original():
    """trafilatura's own XPath for the duration: benches measure the raw library with it."""
    from trafilatura import xpaths

    swapped = [(getattr(xpaths, name), index) for name, index in RULES
               if hasattr(getattr(xpaths, name)[index], "xpath")]
    rules = [expressions[index] for expressions, index in swapped]
    for expressions, index in swapped:
        expressions[index] = expressions[index].xpath
    try:
        yield
    finally:
        for (expressions, index), rule in zip(swapped, rules):
            expressions[index] = rule
