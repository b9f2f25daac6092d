"""Background fine-tuning jobs (finetune.jobs): a real training run in a separate process on a
tiny T5, watched, cancelled and killed the way the Fine-tune page does."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from finetune import jobs
from finetune.modeling import load_tokenizer
from tests.conftest import make_settings, wait_until
from tests.finetune_data import make_trainable_t5, write_dataset

SECRET = "sk-job-test-secret-value"


@pytest.fixture(scope="module")
def trainable_t5(tmp_path_factory) -> Path:
    return make_trainable_t5(tmp_path_factory.mktemp("trainable-t5") / "model")


@pytest.fixture
def settings(tmp_path, trainable_t5, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)  # must not end up in any job file
    settings = make_settings(
        data_dir=tmp_path / "data", openai_api_key=SECRET, flan_t5_max_new_tokens=8
    )
    write_dataset(settings.finetune_dir / "datasets" / "demo", load_tokenizer(trainable_t5),
                  train=16, val=1, test=1)
    return settings


# Small enough for a few seconds of CPU: one epoch of 4 steps, short generated answers.
QUICK = {"epochs": 1, "batch_size": 4, "log_every": 1, "max_target_tokens": 16, "eval_max_new_tokens": 8}


def start(settings, model: Path, name: str = "a1", **params) -> jobs.Job:
    return jobs.start_training(
        settings, model=str(model), dataset="demo", name=name, params={**QUICK, **params}
    )


def test_training_runs_in_the_background_and_ends_with_an_evaluated_adapter(settings, trainable_t5):
    job = start(settings, trainable_t5)
    assert job.status in jobs.RUNNING

    # progress shows while it runs: loss points from the trainer's metrics.jsonl
    seen = wait_until(
        lambda: job.status == "running" and job.progress().losses and job.progress(),
        timeout=60, what="training progress",
    )
    assert seen.total_steps == 4 and 1 <= seen.step <= 4 and seen.phase in {"training", "evaluating"}
    assert jobs.running_jobs(settings) and jobs.running_jobs(settings)[0].id == job.id

    wait_until(lambda: job.status not in jobs.RUNNING, timeout=90, what="the job's end")
    assert job.status == "finished", job.log_tail(40)
    assert job.result["exit_code"] == 0 and job.result["finished_at"]
    progress = job.progress()
    assert progress.phase == "finished" and progress.fraction == 1.0
    assert [p["step"] for p in progress.losses] == [1, 2, 3, 4]
    assert progress.epoch_rows and "val_loss" in progress.epoch_rows[0] and "rougeL" in progress.epoch_rows[0]

    out = settings.finetune_dir / "adapters" / "a1"
    assert job.out == out and (out / "adapter_config.json").is_file()
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert set(evaluation["models"]) == {"base", "tuned"}
    # the runner used this process's settings (not the environment's): answers of at most
    # flan_t5_max_new_tokens=8 tokens, as set above
    assert evaluation["max_new_tokens"] == 8
    assert job.evaluation() == evaluation

    # found again from disk, as after a page reload or an app restart
    (again,) = jobs.list_jobs(settings)
    assert again.id == job.id and again.status == "finished" and again.kind == "train"
    assert jobs.get_job(settings, job.id).name == "a1"
    for file in job.directory.iterdir():
        assert SECRET not in file.read_text(errors="replace"), file.name
    assert "== job finished" in job.log_tail(5)


def test_cancel_stops_the_whole_process_group_and_resume_goes_on(settings, trainable_t5):
    job = start(settings, trainable_t5, name="long", epochs=200, patience=0, max_eval_examples=1)
    wait_until(lambda: job.status == "running" and job.progress().losses, timeout=60, what="training steps")

    with pytest.raises(jobs.JobConflict, match="still running"):
        start(settings, trainable_t5, name="second")
    assert not (settings.finetune_dir / "adapters" / "second").exists()

    assert job.cancel() is True
    assert job.status == "cancelled"
    with pytest.raises(ProcessLookupError):
        os.killpg(job.pid, 0)  # the runner and anything it started are gone
    stopped_at = job.progress().step
    assert stopped_at < job.progress().total_steps
    assert job.cancel() is False  # nothing left to cancel

    # resumed from the checkpoint the trainer saved on SIGTERM: it goes on, not from step 1
    assert jobs.can_resume(job)
    resumed = jobs.resume_training(settings, job.id)
    assert resumed.out == job.out and "--resume" in resumed.steps[0]
    wait_until(
        lambda: resumed.progress().losses and resumed.progress().losses[-1]["step"] > stopped_at,
        timeout=60, what="steps after the resumed checkpoint",
    )
    assert resumed.progress().losses[0]["step"] == 1  # the earlier steps' losses are kept
    assert resumed.cancel() is True and resumed.status == "cancelled"


def test_a_job_whose_process_died_is_failed(settings, trainable_t5):
    job = start(settings, trainable_t5, name="killed")
    os.killpg(job.pid, signal.SIGKILL)  # as if the machine ran out of memory
    wait_until(lambda: job.status not in jobs.RUNNING, timeout=30, what="the dead job noticed")
    assert job.status == "failed"
    assert "stopped unexpectedly" in job.message
    assert not jobs.running_jobs(settings)


def test_mistakes_are_refused_before_anything_starts(settings, trainable_t5):
    with pytest.raises(jobs.JobError, match="has no option --epoch"):
        start(settings, trainable_t5, epoch=3)
    with pytest.raises(jobs.JobError, match="looks like a secret"):
        start(settings, trainable_t5, api_key="x")
    with pytest.raises(jobs.JobError, match="not a dataset folder"):
        jobs.start_training(settings, model=str(trainable_t5), dataset="nope", name="a2", params=QUICK)
    with pytest.raises(jobs.JobError, match="cannot name"):
        start(settings, trainable_t5, name="../escape")
    (settings.finetune_dir / "adapters" / "taken").mkdir(parents=True)
    (settings.finetune_dir / "adapters" / "taken" / "adapter_config.json").write_text("{}")
    with pytest.raises(jobs.JobError, match="exists already"):
        start(settings, trainable_t5, name="taken")
    assert not jobs.list_jobs(settings)
