"""The model card written next to a quality model: what it learnt from and how well it agrees.

`<model file>.card.json` (`edu.bin.card.json`) is read back by the `quality` stage (the grade scale
and the default threshold of a graded model) and by people and scripts; `<model file>.card.md` is the
same for reading. Named by the whole file name, so `edu.bin` and `edu.npz` have a card each; a card
named by the stem alone (`edu.card.json`, written before) is still read. Both say: the data (labels
folder, documents, grade counts), the rubric, the annotators and their models, the training settings,
and the held-out agreement with the annotator.
"""
import json
from pathlib import Path


def card_path(model: str | Path) -> Path:
    model = Path(model)
    return model.with_name(f"{model.name}.card.json")


def read_card(model: str | Path) -> dict | None:
    """The card beside a model, or None (a model from elsewhere, e.g. DCLM's, has none)."""
    path = card_path(model)
    if not path.is_file():
        path = Path(model).with_name(f"{Path(model).stem}.card.json")  # written before cards had the suffix
    if not path.is_file():
        return None
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return card if isinstance(card, dict) else None


def write_card(model: str | Path, card: dict) -> Path:
    path = card_path(model)
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    md = path.with_suffix(".md")
    md.write_text(render_markdown(card), encoding="utf-8")
    return path


def render_markdown(card: dict) -> str:
    m, data = card.get("metrics", {}), card.get("data", {})
    lines = [f"# Quality model `{Path(card.get('model', '')).name}`", "",
             f"- kind: {card.get('kind')} (target {card.get('target')}), scores {card.get('score')}",
             f"- rubric: {card.get('rubric', {}).get('name')} (scale {card.get('rubric', {}).get('scale')}, "
             f"cut {card.get('rubric', {}).get('cut')})",
             "- annotators: " + ", ".join(f"{n} ({a.get('model')}, rubric {a.get('rubric')})"
                                          for n, a in card.get("annotators", {}).items()),
             f"- data: {data.get('documents')} graded documents from {data.get('labels')} "
             f"({data.get('files')} files); grades {data.get('grade_counts')}",
             f"- split: {card.get('split', {}).get('train')} train, {card.get('split', {}).get('heldout')} held out "
             f"(seed {card.get('params', {}).get('seed')})",
             f"- default threshold in the `quality` stage: {card.get('threshold')}", "",
             "## Held-out agreement with the annotator", "",
             f"F1 at the cut {m.get('f1')} (precision {m.get('precision')}, recall {m.get('recall')}), "
             f"Spearman {m.get('spearman')}, accuracy {m.get('accuracy')}, n {m.get('n')}.", ""]
    for key in ("confusion_at_cut", "confusion"):
        if key in m:
            labels, matrix = m[key]["labels"], m[key]["matrix"]
            lines += [f"{key.replace('_', ' ')} (rows: annotator, columns: model)", "",
                      "| | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
            lines += [f"| {label} | " + " | ".join(map(str, row)) + " |" for label, row in zip(labels, matrix)]
            lines.append("")
    lines += ["## Training settings", "", "```json", json.dumps(card.get("params", {}), sort_keys=True), "```", ""]
    return "\n".join(lines)
