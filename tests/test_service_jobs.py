"""A check job run in this process (zoning.service.jobs.run_job): the sites are checked by
zoning.check.iter_check, chunk by chunk, with the job's progress written as it goes and the
row limit of a job (zoning serve --max-rows) refused before a chunk over it is written."""

from __future__ import annotations

import pytest

from zoning.service.jobs import JobParams, JobStore, run_job

PACK_INFO = {"name": "jincheng", "version": "test", "hash": "0" * 64}


def _job(data, n_rows: int, **params):
    store = JobStore(data)
    job = store.create("local", JobParams(**params).validate(), [{"name": "sites.csv", "size": 0}])
    inputs = store.job_dir(job.id) / "input"
    inputs.mkdir(parents=True)
    rows = "".join(f"site{k},112.85,35.49\n" for k in range(n_rows))
    (inputs / "sites.csv").write_text("site_name,lon,lat\n" + rows, encoding="utf-8")
    return store, job.id


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # run_job moves into the job's folder; the test's cwd is restored
    return tmp_path / "data"


def test_a_job_is_checked_chunk_by_chunk_with_its_progress(data):
    store, job_id = _job(data, 250, formats=["csv"], chunksize=100)
    run_job(str(data), job_id, None, 1000, None, PACK_INFO)
    job = store.get(job_id)
    assert job is not None and job.status == "done", job
    assert job.done_sites == 250 and job.summary["n_sites"] == 250 and job.files == ["check.csv"]
    assert (store.job_dir(job_id) / "out" / "check.csv").is_file()


def test_a_job_over_the_row_limit_fails_before_the_chunk_over_it_is_counted(data):
    store, job_id = _job(data, 250, formats=["csv"], chunksize=100)
    run_job(str(data), job_id, None, 150, None, PACK_INFO)
    job = store.get(job_id)
    assert job is not None and job.status == "failed"
    assert job.error is not None and job.error.startswith("the upload has more than 150 sites")
    assert job.done_sites == 100  # the first chunk; the second would pass the limit
    assert job.files == [] and not any((store.job_dir(job_id) / "out").iterdir())  # nothing half written
