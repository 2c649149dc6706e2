"""Parse and check one LLM output against its source chunk: structure, length, echoes, grounding.

A small model invents facts and echoes its prompt; these checks are what make
its output usable. QA outputs are checked pair by pair: bad pairs are dropped
(counted), and the output is rejected only when no pair survives, with the most
common reason. An answer must share a content word with its question (else
`qa_off_topic`; bare "Yes."/"No." answers excepted). Grounding: the share of an answer's content words (or word
n-grams) found in the source chunk must reach `min_grounding`.
"""
import re
from collections import Counter
from dataclasses import dataclass, field

from curate.synth.prompts import Prompt

STOPWORDS = frozenset("""a an the and or but if then than so of to in on at by for with from as into onto about
over under after before between through during without within is are was were be been being am do does did
has have had having it its it's this that these those there here he she they them his her their we our you your
i me my not no yes can could will would should may might must shall also very just only more most such which
who whom whose what when where why how all any both each few other some own same too s t""".split())
_WORD = re.compile(r"\w+", re.UNICODE)
# wording that belongs to a prompt or a chat template, never to a document
_LEFTOVER = re.compile(r"(^|\n)\s*(Text|Instruction|Instructions|Input|Output)\s*:|<start_of_turn>|<end_of_turn>|"
                       r"<\|im_(start|end)\|>|\[/?INST\]|\bas an AI\b|\bthe (text|passage) above\b|"
                       r"\bHere (are|is) (the|some|a)\b|\bwrite (two|2|a|the|some) (question|summary)", re.I)
_QA = re.compile(r"Question:\s*(?P<q>.*?)\s*\n\s*Answer:\s*(?P<a>.*?)\s*(?=\n\s*Question:|\Z)", re.S)


@dataclass
class Limits:
    min_grounding: float = 0.6
    grounding_ngram: int = 1
    max_question_words: int = 40
    max_answer_words: int = 80
    max_pairs: int = 8
    max_output_ratio: float = 2.0  # text/list outputs: words <= ratio * chunk words + 20


@dataclass
class Checked:
    text: str | None  # the accepted document text, or None when rejected
    reason: str | None = None
    detail: str | None = None
    stats: dict = field(default_factory=dict)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def grams(tokens: list[str], n: int) -> list[tuple]:
    if n <= 1:
        return [(t,) for t in tokens if t not in STOPWORDS and len(t) > 1]
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)
            if not all(t in STOPWORDS for t in tokens[i:i + n])]


def grounding(answer: str, source: str, n: int = 1) -> float:
    """Share of the answer's content n-grams that occur in the source (1.0 when it has none)."""
    found = grams(words(answer), n)
    if not found:
        return 1.0
    have = set(grams(words(source), n))
    return sum(g in have for g in found) / len(found)


def _echoes(text: str, prompt: Prompt) -> bool:
    return bool(_LEFTOVER.search(text)) or any(line in text for line in prompt.instruction_lines())


def check_qa(raw: str, finish_reason: str, chunk: str, prompt: Prompt, limits: Limits, prefix: str) -> Checked:
    dropped = Counter()
    if finish_reason == "length":  # max_tokens cut the last question or answer: drop it
        raw = raw[:max(0, raw.rfind("\nQuestion:"))]
        dropped[f"{prefix}_truncated"] += 1
    pairs = [(m["q"].strip(), m["a"].strip()) for m in _QA.finditer(raw)]
    if not pairs and not dropped:
        return Checked(None, f"{prefix}_bad_format", "no 'Question: ... Answer: ...' pair in the output")
    kept, seen, best = [], set(), 0.0
    answer_re = re.compile(prompt.answer_pattern) if prompt.answer_pattern else None
    for q, a in pairs[: limits.max_pairs]:
        if _echoes(q + "\n" + a, prompt):
            dropped[f"{prefix}_leftover_instructions"] += 1
        elif not q or not a or not q.endswith("?") or "\n" in q or (answer_re and not answer_re.search(a)):
            dropped[f"{prefix}_bad_format"] += 1
        elif len(q.split()) > limits.max_question_words or len(a.split()) > limits.max_answer_words:
            dropped[f"{prefix}_too_long"] += 1
        elif q.lower() in seen:
            dropped[f"{prefix}_duplicate_question"] += 1
        else:
            score = min(grounding(a, chunk, limits.grounding_ngram), grounding(q, chunk, 1) if q else 0.0)
            best = max(best, score)
            if score < limits.min_grounding:
                dropped[f"{prefix}_not_grounded"] += 1
            elif grams(words(a), 1) and not set(grams(words(a), 1)) & set(grams(words(q), 1)):
                dropped[f"{prefix}_off_topic"] += 1  # the answer shares no content word with its question
            else:
                seen.add(q.lower())
                kept.append((q, a))
    dropped[f"{prefix}_too_many_pairs"] += max(0, len(pairs) - limits.max_pairs)
    dropped = +dropped
    stats = {"pairs": len(kept), "dropped": dict(sorted(dropped.items()))}
    if not kept:
        reason = max(sorted(dropped), key=lambda r: dropped[r])
        return Checked(None, reason, f"{dict(sorted(dropped.items()))}; best grounding {best:.2f} "
                                     f"(min {limits.min_grounding})", stats)
    return Checked("\n\n".join(f"Question: {q}\nAnswer: {a}" for q, a in kept), stats=stats)


def check_text(raw: str, finish_reason: str, chunk: str, prompt: Prompt, limits: Limits) -> Checked:
    text = raw.strip()
    if prompt.kind == "list":
        items = [line.strip()[1:].strip() for line in text.splitlines() if line.strip().startswith("-")]
        if finish_reason == "length" and len(items) > 1:
            items = items[:-1]
        if len(items) < prompt.min_items:
            return Checked(None, "synth_bad_format", f"{len(items)} list items < {prompt.min_items}")
        text = "\n".join(f"- {item}" for item in items if item)
    n_words = len(text.split())
    if _echoes(text, prompt):
        return Checked(None, "synth_leftover_instructions", text[:120])
    if n_words < prompt.min_words:
        return Checked(None, "synth_too_short", f"{n_words} words < {prompt.min_words}")
    if n_words > limits.max_output_ratio * len(chunk.split()) + 20:
        return Checked(None, "synth_too_long", f"{n_words} words for a {len(chunk.split())}-word chunk")
    score = grounding(text, chunk, limits.grounding_ngram)
    if score < limits.min_grounding:
        return Checked(None, "synth_not_grounded", f"grounding {score:.2f} < {limits.min_grounding}")
    return Checked(text, stats={"grounding": round(score, 3), "words": n_words})


def check_output(raw: str, finish_reason: str, chunk: str, prompt: Prompt, limits: Limits) -> Checked:
    """Accept or reject one output; `raw` is what followed the prompt's response prefix."""
    prefix = prompt.response_prefix
    if raw.lstrip().startswith(prefix.strip()):  # a chat model may repeat the prefix itself
        prefix = ""
    if prompt.kind == "qa":
        return check_qa(prefix + raw, finish_reason, chunk, prompt, limits, "qa")
    body = prefix.split(":", 1)[-1] if ":" in prefix else prefix
    return check_text(body + raw, finish_reason, chunk, prompt, limits)
