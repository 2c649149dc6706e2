"""Start a spec the way its executor runs: here (local, Ray) to the manifest, or submitted to Slurm."""
from curate.pipelines.executors.local import local_pool
from curate.pipelines.run import run_pipeline
from curate.pipelines.slurm import submit_pipeline
from curate.pipelines.spec import PipelineSpec


def launch(spec: PipelineSpec, on_stage=None, on_progress=None) -> dict:
    """The manifest of the finished run, or (Slurm) the ids of the submitted jobs."""
    if spec.executor.type == "slurm":  # chained jobs; nothing to wait for
        return submit_pipeline(spec, on_stage)
    with local_pool(spec):  # one set of worker processes for every stage
        return run_pipeline(spec, on_stage=on_stage, on_progress=on_progress)
