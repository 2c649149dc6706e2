"""The limits a run's spec set on the values its stages record, so a histogram can show where a stage cuts.

One function per stage type reads that stage's parameters (as manifest.json holds them) and returns
{recorded value name: [Limit]}; a stage type without an entry draws no line. A new filter that records
a value against a limit adds its entry to `LIMITS`.
"""
from dataclasses import dataclass

from curate.pipelines.spec import stage_folders

# values bounded by construction: their histograms span the whole range, so a cut anywhere shows
DOMAINS = {"lang_score": (0.0, 1.0), "quality_score": (0.0, 1.0)}


@dataclass(frozen=True)
class Limit:
    rule: str  # the spec key, e.g. gopher_min_words
    value: float
    direction: str  # "min": below is rejected, "max": above is rejected

    def describe(self) -> str:
        return f"{self.rule} {'≥' if self.direction == 'min' else '≤'} {self.value:g}"


def language_limits(params: dict, values: dict) -> dict:
    limits = [Limit("threshold", float(params["threshold"]), "min")] if params.get("threshold") is not None else []
    limits += [Limit(f"thresholds.{lang}", float(v), "min") for lang, v in sorted((params.get("thresholds") or {})
                                                                                 .items())]
    return {"lang_score": limits}


def quality_limits(params: dict, values: dict) -> dict:
    """The threshold, or with `top_fraction` the cut the run found: the lowest score the stage kept."""
    if params.get("top_fraction") is None:
        threshold, rule = params.get("threshold"), "threshold"
        if threshold is None:  # the filter's rule: the model card's threshold, else its default
            from curate.filters.model_card import read_card
            from curate.filters.quality import DEFAULT_THRESHOLD  # imported only here: it pulls in datatrove.io

            model = str(params.get("model") or "")
            card = (read_card(model) or {}).get("threshold") if model and "://" not in model else None
            threshold, rule = (card, "threshold (model card)") if isinstance(card, (int, float)) else \
                (DEFAULT_THRESHOLD, "threshold (default)")
        return {"quality_score": [Limit(rule, float(threshold), "min")]}
    passed = values.get(("quality", "quality_score"), {}).get("passed")
    return {"quality_score": [Limit(f"top_fraction {params['top_fraction']:g} cut", min(passed), "min")]} \
        if passed else {}


def heuristics_limits(params: dict, values: dict) -> dict:
    """The filter's own rule table (rule key, measured value, direction) plus its per-n-gram limits."""
    from curate.filters.heuristics import HeuristicFilter

    out: dict = {}
    rules = [*HeuristicFilter.SIMPLE_RULES, ("gopher_min_stop_words", "stop_words", "min"), *HeuristicFilter.LINE_RULES]
    for rule, name, direction in rules:
        if isinstance(params.get(rule), (int, float)) and not isinstance(params.get(rule), bool):
            out.setdefault(name, []).append(Limit(rule, float(params[rule]), direction))
    for rule, pattern in (("gopher_max_top_ngram_chars", "top_{}gram_chars"),
                          ("gopher_max_dup_ngram_chars", "dup_{}gram_chars")):
        for n, limit in (params.get(rule) or {}).items():
            out.setdefault(pattern.format(n), []).append(Limit(f"{rule}.{n}", float(limit), "max"))
    return out


def rewrite_limits(params: dict, values: dict) -> dict:
    """A completion that reaches max_tokens was cut off."""
    limit = params.get("max_tokens")
    return {"completion_tokens": [Limit("max_tokens", float(limit), "max")]} if isinstance(limit, int) else {}


LIMITS = {"language": language_limits, "quality": quality_limits, "heuristics": heuristics_limits,
          "qa_rewrite": rewrite_limits}


def run_limits(spec: dict, values: dict) -> dict:
    """{(stage type, value name): [Limit]} for the stages of a spec (the first stage of each type)."""
    out: dict = {}
    for entry, (_, stage_type) in zip(spec.get("stages") or [], stage_folders(spec.get("stages") or [])):
        params = next(iter(entry.values())) if isinstance(entry, dict) and len(entry) == 1 else {}
        if stage_type in LIMITS and isinstance(params, dict):
            for name, limits in LIMITS[stage_type](params, values).items():
                out.setdefault((stage_type, name), limits)
    return out
