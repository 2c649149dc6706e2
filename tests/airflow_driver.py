"""`airflow dags test` several times in one interpreter, for tests/test_airflow.py.

    python airflow_driver.py OUT.json RUNS_JSON [FOLDER...]   # RUNS_JSON: [[dag_id, conf], ...]

Each run goes through Airflow's own CLI parser and command (`airflow dags test DAG_ID --conf ...`), so it is
the real command; one interpreter shares the start of Airflow's in-process API server (tens of seconds on
a busy machine) between the runs. First the dags folder is parsed by a DagBag, recording the modules the
parse imported and each DAG's shape; after each run the Parquet files under each FOLDER are hashed.
Writes OUT.json: {"parse": ..., "dags": ..., "runs": [...]}.
"""
import hashlib
import json
import sys
import time
from pathlib import Path


def parse_dags() -> tuple[dict, dict]:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import Asset  # noqa: F401  (what a DAG processor has imported before it parses)

    before = set(sys.modules)
    started = time.perf_counter()
    bag = DagBag()  # the configured dags folder
    seconds = time.perf_counter() - started
    loaded = sorted(m for m in set(sys.modules) - before if not m.startswith("unusual_prefix"))
    dags = {}
    for dag_id, dag in bag.dags.items():
        schedule = dag.schedule if isinstance(dag.schedule, (list, tuple)) else []
        dags[dag_id] = {
            "schedule_assets": sorted(a.uri for a in schedule),
            "tasks": {t.task_id: {"upstream": sorted(t.upstream_task_ids), "outlets": [a.uri for a in t.outlets],
                                  "inlets": [a.uri for a in t.inlets], "retries": t.retries, "pool": t.pool,
                                  "queue": t.queue, "retry_delay": t.retry_delay.total_seconds(),
                                  "execution_timeout": t.execution_timeout and t.execution_timeout.total_seconds(),
                                  "group": t.task_group.group_id if t.task_group else None}
                      for t in dag.topological_sort()},
            "max_active_runs": dag.max_active_runs}
    return {"seconds": seconds, "modules": loaded, "errors": {k: str(v) for k, v in bag.import_errors.items()}}, dags


def last_run(dag_id: str) -> dict:
    """Task states and tries of the DAG's latest run, its return values, and the asset-queued runs of other DAGs."""
    from airflow.models.asset import AssetDagRunQueue
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc())).first()
        tasks = {ti.task_id: {"state": str(ti.state), "try_number": ti.try_number}
                 for ti in run.get_task_instances(session=session)}
        values = {x.task_id: XComModel.deserialize_value(x)
                  for x in session.scalars(XComModel.get_many(run_id=run.run_id, dag_ids=dag_id, key="return_value"))}
        queued = sorted({q.target_dag_id for q in session.scalars(select(AssetDagRunQueue))})
        return {"run_id": run.run_id, "state": str(run.state), "tasks": tasks, "returned": values,
                "asset_queued_dags": queued}


def fingerprint(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob("**/*.parquet"))}


def main() -> None:
    from airflow.cli.cli_parser import get_parser

    out, runs, folders = Path(sys.argv[1]), json.loads(sys.argv[2]), [Path(f) for f in sys.argv[3:]]
    parse, dags = parse_dags()
    results = []
    for dag_id, conf in runs:
        args = get_parser().parse_args(["dags", "test", dag_id, "--conf", json.dumps(conf)])
        started = time.perf_counter()
        try:
            args.func(args)
            ended = "ok"
        except SystemExit as e:  # the command's "DagRun failed"
            ended = str(e)
        print(f"=== dags test {dag_id}: {ended}", flush=True)
        results.append({"dag_id": dag_id, "conf": conf, "exit": ended, "seconds": time.perf_counter() - started,
                        "hashes": {str(f): fingerprint(f) for f in folders}, **last_run(dag_id)})
    out.write_text(json.dumps({"parse": parse, "dags": dags, "runs": results}, indent=1, default=str))


if __name__ == "__main__":
    main()
