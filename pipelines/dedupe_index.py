"""`curate run --index DIR`: point every minhash_dedupe stage of a spec at a persisted index."""
from curate.pipelines.spec import PipelineSpec, SpecError


def apply_index(spec: PipelineSpec, index: str) -> PipelineSpec:
    stages = [s.model_copy(update={"params": s.params.model_copy(update={"index": index})})
              if s.type == "minhash_dedupe" else s for s in spec.stages]
    if stages == list(spec.stages) and not any(s.type == "minhash_dedupe" for s in spec.stages):
        raise SpecError(f"--index needs a minhash_dedupe stage; spec '{spec.name}' has none")
    return spec.model_copy(update={"stages": stages})
