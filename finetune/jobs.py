"""Background fine-tuning jobs: building a dataset or training an adapter without blocking the
page that started it, and without dying with it.

A job is a folder ``<finetune_dir>/jobs/<id>/`` (so a page reload, another browser or an app
restart finds it again):

``job.json``
    what to run: the kind (``dataset`` or ``train``), the ``python -m finetune`` commands it
    runs one after the other (``steps``), its output folder, its parameters, the runner's pid
    and the non-secret settings the runner uses (so it sees the same data dir as the app).
``job.log``
    stdout and stderr of the runner and every step.
``state.json``
    which step is running (written by the runner).
``result.json``
    written once, when the job ends: ``status`` (finished, failed or cancelled), the exit code,
    ``finished_at`` and a one-line message.
``cancel``
    a marker: cancelling was asked for, so an interrupted runner reports "cancelled".

The runner is ``python -m finetune.jobs run JOBDIR`` in a new session (its own process group):
:meth:`Job.cancel` signals the whole group, steps included. Progress is read from the training
output's ``metrics.jsonl``, which the training loop appends to as it goes.

Secrets never reach a job's files: API keys and password hashes are not copied into
``job.json`` (the runner inherits them from the environment, if at all), and parameters whose
names look like secrets are refused.

    python -m finetune.jobs list
    python -m finetune.jobs show ID
    python -m finetune.jobs cancel ID
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopbot.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]

JOB_FILE = "job.json"
LOG_FILE = "job.log"
STATE_FILE = "state.json"
RESULT_FILE = "result.json"
CANCEL_FILE = "cancel"
METRICS_FILE = "metrics.jsonl"

KINDS = ("dataset", "train")
RUNNING = frozenset({"starting", "running"})
ENDED = frozenset({"finished", "failed", "cancelled"})

# A runner that has not recorded its pid this long after the job was created never started.
START_GRACE_S = 60.0
# How long cancel() waits after SIGTERM (the trainer finishes its step and saves a
# checkpoint) before it sends SIGKILL.
CANCEL_GRACE_S = 30.0

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Option and setting names that hold secrets ("openai_api_key", "staff_password_hash"), matched
# on whole "_"/"-" separated words so "max_new_tokens" passes.
_SECRET_NAME = re.compile(
    r"(?:^|[_-])(?:key|secret|token|password|passwd|hash|credentials?)(?:$|[_-])", re.IGNORECASE
)

# Runners started by this process: polling them reaps them, so a finished runner does not
# linger as a zombie that still answers kill(pid, 0).
_CHILDREN: dict[int, subprocess.Popen] = {}


class JobError(RuntimeError):
    """A job cannot be started or found; the message says what to do."""


class JobConflict(JobError):
    """Another training job is still running."""


class JobNotFound(JobError, LookupError):
    pass


# -- reading a job -----------------------------------------------------------------------------


@dataclass
class Progress:
    """What a job's training output says so far (all empty for a dataset job)."""

    phase: str  # starting, training, evaluating, building, finished, failed, cancelled
    step: int = 0
    total_steps: int | None = None
    epoch: float | None = None
    epochs: int | None = None
    elapsed_s: float | None = None
    eta_s: float | None = None
    base_val_loss: float | None = None  # the untrained model's, measured before step 1
    losses: list[dict[str, float]] = field(default_factory=list)  # {"step", "loss", "epoch"}
    epoch_rows: list[dict[str, Any]] = field(default_factory=list)  # val_loss, ROUGE per epoch
    early_stopped: bool = False
    done: dict[str, Any] | None = None  # the training's "done" event

    @property
    def fraction(self) -> float:
        """0..1 for a progress bar (training steps; 1.0 once training is done)."""
        if self.done is not None:
            return 1.0
        if not self.total_steps:
            return 0.0
        return max(0.0, min(1.0, self.step / self.total_steps))


@dataclass
class Job:
    """One background job, read from its folder. Cheap: re-read on every call, so it always
    shows what is on disk now."""

    directory: Path

    # -- job.json ---------------------------------------------------------------------------

    @property
    def spec(self) -> dict[str, Any]:
        return _read_json(self.directory / JOB_FILE) or {}

    @property
    def id(self) -> str:
        return self.directory.name

    @property
    def kind(self) -> str:
        return str(self.spec.get("kind", ""))

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    @property
    def out(self) -> Path:
        return Path(self.spec.get("out", ""))

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.spec.get("params", {}))

    @property
    def steps(self) -> list[list[str]]:
        return [list(step) for step in self.spec.get("steps", [])]

    @property
    def created_at(self) -> str:
        return str(self.spec.get("created_at", ""))

    @property
    def pid(self) -> int | None:
        pid = self.spec.get("pid")
        return int(pid) if pid else None

    @property
    def log_path(self) -> Path:
        return self.directory / LOG_FILE

    # -- state --------------------------------------------------------------------------------

    @property
    def result(self) -> dict[str, Any] | None:
        """result.json, once the job has ended."""
        return _read_json(self.directory / RESULT_FILE)

    @property
    def status(self) -> str:
        """starting, running, finished, failed or cancelled. A runner that died without
        recording a result (killed, machine restarted) is "failed"."""
        result = self.result
        if result:
            return str(result.get("status", "failed"))
        spec = self.spec
        pid = spec.get("pid")
        if not pid:
            if time.time() - float(spec.get("created_ts", 0)) < START_GRACE_S:
                return "starting"
            return self._died("the job never started")
        if not self.local:
            return "running"  # another machine's process: only its result file can tell
        if _alive(int(pid), spec.get("pid_start")):
            return "running"
        result = self.result  # it may have written its result just before exiting
        if result:
            return str(result.get("status", "failed"))
        return self._died("the job stopped unexpectedly (its process is gone)")

    def _died(self, message: str) -> str:
        status = "cancelled" if (self.directory / CANCEL_FILE).exists() else "failed"
        _write_result(self.directory, status, None, message, only_if_absent=True)
        return str((self.result or {}).get("status", status))

    @property
    def local(self) -> bool:
        """Whether the job runs on this machine (app replicas may share a data dir), so its
        pid means something here."""
        host = self.spec.get("host")
        return not host or host == socket.gethostname()

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    @property
    def message(self) -> str:
        """Why it failed (the step's ``error:`` line when there is one), or a summary."""
        return str((self.result or {}).get("message", ""))

    @property
    def current_step(self) -> str | None:
        """The finetune command running now (``train``, ``evaluate``, ``build-dataset``)."""
        state = _read_json(self.directory / STATE_FILE) or {}
        return state.get("command")

    def progress(self) -> Progress:
        status = self.status
        if status in ENDED:
            phase = status
        elif self.kind == "dataset":
            phase = "building"
        elif self.current_step == "evaluate":
            phase = "evaluating"
        elif self.current_step == "train":
            phase = "training"
        else:
            phase = "starting"
        progress = Progress(phase=phase)
        if self.kind != "train":
            return progress
        for event in _read_events(self.out / METRICS_FILE):
            kind = event.get("event")
            if kind == "start":  # also written again when a run resumes
                progress.step = _int(event.get("step")) or progress.step
                progress.total_steps = _int(event.get("total_steps")) or progress.total_steps
                progress.epochs = _int(event.get("epochs")) or progress.epochs
                progress.base_val_loss = _float(event.get("base_val_loss"))
            elif kind == "step":
                progress.step = _int(event.get("step")) or progress.step
                progress.total_steps = _int(event.get("total_steps")) or progress.total_steps
                progress.epoch = _float(event.get("epoch"))
                progress.elapsed_s = _float(event.get("elapsed_s"))
                progress.eta_s = _float(event.get("eta_s"))
                loss = _float(event.get("loss"))
                if loss is not None:
                    progress.losses.append(
                        {"step": progress.step, "loss": loss, "epoch": progress.epoch or 0.0}
                    )
            elif kind == "epoch":
                progress.epoch_rows.append({k: v for k, v in event.items() if k != "event"})
            elif kind == "early_stop":
                progress.early_stopped = True
            elif kind == "done":
                progress.done = {k: v for k, v in event.items() if k != "event"}
                progress.eta_s = 0.0
        return progress

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the job's log (progress bars' carriage returns folded)."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - 64 * 1024))
                text = handle.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        shown = [line.rsplit("\r", 1)[-1] for line in text.splitlines()]
        return "\n".join(shown[-lines:])

    def evaluation(self) -> dict[str, Any] | None:
        """The adapter's evaluation.json (base vs tuned), once the evaluate step wrote it."""
        return _read_json(self.out / "evaluation.json") if self.kind == "train" else None

    # -- control ---------------------------------------------------------------------------

    def cancel(self, grace_s: float = CANCEL_GRACE_S) -> bool:
        """Stop the job: SIGTERM to its process group (the runner and any step processes),
        SIGKILL to what is left after ``grace_s``. False when it had already ended."""
        if self.status not in RUNNING:
            return False
        if not self.local:
            raise JobError(
                f"Job {self.id} runs on {self.spec.get('host')}: cancel it there "
                f"(`python -m finetune.jobs cancel {self.id}`)."
            )
        (self.directory / CANCEL_FILE).write_text(_now() + "\n")
        pid = self.pid
        if pid is not None and _alive(pid, self.spec.get("pid_start")):
            _signal_group(pid, signal.SIGTERM)
            deadline = time.monotonic() + grace_s
            while time.monotonic() < deadline and _group_alive(pid):
                time.sleep(0.05)
            if _group_alive(pid):
                _signal_group(pid, signal.SIGKILL)
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and _group_alive(pid):
                    time.sleep(0.05)
            _reap(pid)
        _write_result(self.directory, "cancelled", None, "cancelled", only_if_absent=True)
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "status": self.status,
            "created_at": self.created_at,
            "out": str(self.out),
            "message": self.message,
        }


# -- listing ---------------------------------------------------------------------------------


def jobs_dir(settings: Settings) -> Path:
    return settings.finetune_dir / "jobs"


def list_jobs(settings: Settings, kind: str | None = None) -> list[Job]:
    """Every job, newest first."""
    root = jobs_dir(settings)
    if not root.is_dir():
        return []
    jobs = [Job(path) for path in root.iterdir() if (path / JOB_FILE).is_file()]
    if kind is not None:
        jobs = [job for job in jobs if job.kind == kind]
    return sorted(jobs, key=lambda job: (job.created_at, job.id), reverse=True)


def get_job(settings: Settings, job_id: str) -> Job:
    if not _NAME.match(job_id or ""):
        raise JobNotFound(f"{job_id!r} is not a job id; `python -m finetune.jobs list` shows them.")
    job = Job(jobs_dir(settings) / job_id)
    if not (job.directory / JOB_FILE).is_file():
        raise JobNotFound(f"no job {job_id} in {jobs_dir(settings)}; `python -m finetune.jobs list` shows them.")
    return job


def running_jobs(settings: Settings, kind: str | None = None) -> list[Job]:
    return [job for job in list_jobs(settings, kind) if job.status in RUNNING]


# -- starting --------------------------------------------------------------------------------


def start_training(
    settings: Settings,
    *,
    model: str,
    dataset: str | Path,
    name: str,
    params: Mapping[str, Any] | None = None,
    evaluate: bool = True,
    eval_params: Mapping[str, Any] | None = None,
    allow_parallel: bool = False,
) -> Job:
    """Train adapter ``name`` (saved in ``<finetune_dir>/adapters/<name>``) on ``dataset`` (a
    name under ``<finetune_dir>/datasets`` or a folder) from ``model`` (hub id or directory),
    then evaluate it against the base model. ``params`` become ``train`` options
    (``{"epochs": 3, "lora_r": 8}`` -> ``--epochs 3 --lora-r 8``; True -> a bare flag).

    One training job at a time unless ``allow_parallel``: two would share the CPU/GPU and
    both crawl."""
    _check_name(name, "adapter")
    model = _resolve_model(model)
    data = resolve_dataset(settings, dataset)
    out = settings.finetune_dir / "adapters" / name
    _check_out_free(out, f"An adapter named {name!r}")
    params = dict(params or {})
    steps = [["train", "--model", model, "--data", str(data), "--out", str(out), *_options("train", params)]]
    if evaluate:
        steps.append(
            ["evaluate", "--model", model, "--adapter", str(out), "--data", str(data),
             *_options("evaluate", dict(eval_params or {}))]
        )
    with _start_lock(settings):
        busy = running_jobs(settings, "train")
        if any(job.out == out for job in busy):
            raise JobError(f"A training job is already writing the adapter {name!r}; choose another name.")
        if busy and not allow_parallel:
            raise JobConflict(
                f"Training job {busy[0].id} ({busy[0].name}) is still running. Wait for it "
                "to finish or cancel it first (Fine-tune page, or "
                f"`python -m finetune.jobs cancel {busy[0].id}`)."
            )
        return _spawn(
            settings,
            kind="train",
            name=name,
            steps=steps,
            out=out,
            params={"model": model, "dataset": str(data), **params,
                    **({"eval": dict(eval_params)} if eval_params else {})},
        )


def resume_training(settings: Settings, job_id: str, *, allow_parallel: bool = False) -> Job:
    """Continue a cancelled or failed training job from its last checkpoint (``train
    --resume``), as a new job writing to the same adapter folder."""
    previous = get_job(settings, job_id)
    if previous.kind != "train":
        raise JobError(f"Job {job_id} built a dataset; only training jobs can be resumed.")
    if previous.status in RUNNING:
        raise JobError(f"Job {job_id} is still running.")
    if not can_resume(previous):
        raise JobError(
            f"{previous.out} has no checkpoint to resume from (training stopped before saving "
            "one). Start a new training instead."
        )
    steps = previous.steps
    steps[0] = [arg for arg in steps[0] if arg not in ("--overwrite", "--resume")] + ["--resume"]
    with _start_lock(settings):
        if not allow_parallel:
            busy = running_jobs(settings, "train")
            if busy:
                raise JobConflict(
                    f"Training job {busy[0].id} ({busy[0].name}) is still running. Wait for it "
                    "to finish or cancel it first."
                )
        return _spawn(
            settings, kind="train", name=previous.name, steps=steps, out=previous.out,
            params={**previous.params, "resume": True, "resumes": previous.id},
        )


def can_resume(job: Job) -> bool:
    """A training job that ended without finishing and left a checkpoint behind."""
    return (
        job.kind == "train"
        and job.status in ("cancelled", "failed")
        and (job.out / "checkpoints" / "last").is_dir()
    )


def start_dataset(
    settings: Settings,
    *,
    name: str,
    tokenizer: str,
    options: Mapping[str, Any] | None = None,
) -> Job:
    """Build dataset ``name`` in ``<finetune_dir>/datasets/<name>`` with prompts fitted to
    ``tokenizer`` (the base model the adapter will be trained on). ``options`` become
    ``build-dataset`` options, like ``params`` of :func:`start_training`."""
    _check_name(name, "dataset")
    tokenizer = _resolve_model(tokenizer)
    out = settings.finetune_dir / "datasets" / name
    _check_out_free(out, f"A dataset named {name!r}")
    options = dict(options or {})
    steps = [["build-dataset", "--out", str(out), "--tokenizer", tokenizer, *_options("build-dataset", options)]]
    with _start_lock(settings):
        busy = [job for job in running_jobs(settings, "dataset") if job.out == out]
        if busy:
            raise JobConflict(f"Dataset {name!r} is being built already (job {busy[0].id}).")
        return _spawn(
            settings, kind="dataset", name=name, steps=steps, out=out,
            params={"tokenizer": tokenizer, **options},
        )


def resolve_dataset(settings: Settings, dataset: str | Path) -> Path:
    """A dataset name under ``<finetune_dir>/datasets`` or a folder, checked to hold one."""
    from finetune.records import split_path

    text = str(dataset).strip()
    if not text:
        raise JobError("Choose a dataset (build one first if there is none).")
    candidate = Path(text).expanduser()
    if not candidate.is_dir() and _NAME.match(text):
        candidate = settings.finetune_dir / "datasets" / text
    if not split_path(candidate, "train").is_file():
        raise JobError(
            f"{candidate} is not a dataset folder (no train.jsonl). Build one on the Fine-tune "
            "page or with `python -m finetune build-dataset --out DIR`."
        )
    return candidate.resolve()


def list_datasets(settings: Settings) -> list[dict[str, Any]]:
    """Datasets under ``<finetune_dir>/datasets`` with what their dataset.json says."""
    from finetune.records import SPLITS, read_meta, split_path

    root = settings.finetune_dir / "datasets"
    rows = []
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        if not split_path(path, "train").is_file():
            continue
        meta = read_meta(path)
        counts = meta.get("splits") if isinstance(meta.get("splits"), dict) else {}
        row: dict[str, Any] = {"name": path.name}
        for split in SPLITS:
            value = counts.get(split)
            if not isinstance(value, int):  # no dataset.json: count the lines
                value = _count_lines(split_path(path, split))
            row[split] = value
        row["tokenizer"] = str(meta.get("tokenizer") or "")
        row["created_at"] = str(meta.get("created_at") or "")
        row["path"] = str(path)
        rows.append(row)
    return rows


def list_local_models(settings: Settings) -> list[Path]:
    """Model folders under ``<finetune_dir>/models`` (e.g. the tiny T5 of make-tiny-t5)."""
    root = settings.finetune_dir / "models"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / "config.json").is_file())


def _spawn(
    settings: Settings,
    *,
    kind: str,
    name: str,
    steps: list[list[str]],
    out: Path,
    params: dict[str, Any],
) -> Job:
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    _refuse_secrets(params)
    created = datetime.now(UTC)
    job_id = f"{created:%Y%m%d-%H%M%S}-{kind}-{uuid.uuid4().hex[:6]}"
    directory = jobs_dir(settings) / job_id
    directory.mkdir(parents=True)
    argv = [sys.executable, "-m", "finetune.jobs", "run", str(directory)]
    spec: dict[str, Any] = {
        "id": job_id,
        "kind": kind,
        "name": name,
        "created_at": created.isoformat(timespec="seconds"),
        "created_ts": created.timestamp(),
        "argv": argv,
        "steps": steps,
        "out": str(out),
        "params": params,
        "settings": settings_env(settings),
        "host": socket.gethostname(),
        "pid": None,
    }
    _write_json(directory / JOB_FILE, spec)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(directory / LOG_FILE, "ab") as log:
        try:
            process = subprocess.Popen(
                argv,
                cwd=PROJECT_ROOT,  # `-m finetune.jobs` must import this project
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: cancel() signals all of it
                close_fds=True,
            )
        except OSError as exc:
            _write_result(directory, "failed", None, f"could not start the job: {exc}")
            raise JobError(f"Could not start the {kind} job: {exc}") from exc
    _CHILDREN[process.pid] = process
    spec["pid"] = process.pid
    spec["pid_start"] = _process_start(process.pid)
    _write_json(directory / JOB_FILE, spec)
    return Job(directory)


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as ``SHOPBOT_*`` variables for the runner, secrets left out, paths made
    absolute (the runner runs in the project folder). None = the variable is unset. Only
    plain values (text, numbers, paths, flags) are passed."""
    from pydantic import SecretStr

    env: dict[str, str | None] = {}
    for name in type(settings).model_fields:
        if _SECRET_NAME.search(name):
            continue
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            continue
        key = f"SHOPBOT_{name.upper()}"
        if value is None:
            env[key] = None
        elif isinstance(value, Path):
            env[key] = str(value.expanduser().resolve())
        elif isinstance(value, bool):
            env[key] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            env[key] = str(value)
        # Lists and other structured values have their own env syntax per field: the runner
        # inherits those from the environment / .env as they are.
    return env  # type: ignore[return-value]


# -- the runner (python -m finetune.jobs run JOBDIR) --------------------------------------------


class _Cancelled(BaseException):
    """Raised in the runner by SIGTERM; a BaseException so no step's `except Exception`
    swallows it."""


def run_job(directory: Path) -> int:
    """Run a job's steps in this process, in order, and record the result however it ends."""
    directory = Path(directory)
    spec = _read_json(directory / JOB_FILE)
    if not spec:
        print(f"error: {directory / JOB_FILE} is missing or unreadable", file=sys.stderr)
        return 2
    for key, value in (spec.get("settings") or {}).items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = str(value)

    def on_term(signum: int, frame: Any) -> None:
        raise _Cancelled()

    signal.signal(signal.SIGTERM, on_term)
    status, code, message = "failed", 1, ""
    steps = spec.get("steps", [])
    try:
        from finetune import cli

        for number, step in enumerate(steps, 1):
            _write_json(directory / STATE_FILE, {"step": number, "of": len(steps), "command": step[0], "started_at": _now()})
            print(f"== step {number}/{len(steps)}: python -m finetune {' '.join(step)}", flush=True)
            try:
                code = cli.main(step)
            except SystemExit as exc:  # argparse rejected the options
                code = exc.code if isinstance(exc.code, int) else 2
            sys.stdout.flush()
            sys.stderr.flush()
            if code != 0:
                message = _last_error(directory) or f"`{step[0]}` exited with code {code}"
                break
        else:
            status, code = "finished", 0
            message = f"{len(steps)} step{'s' * (len(steps) != 1)} done"
    except _Cancelled:
        status, code, message = "cancelled", 128 + signal.SIGTERM, "cancelled"
    except BaseException as exc:  # record the failure whatever it is, then let the log show it
        traceback.print_exc()
        message = f"{type(exc).__name__}: {exc}"
    if status != "finished" and (directory / CANCEL_FILE).exists():
        status, message = "cancelled", "cancelled"
    _write_result(directory, status, code, message, only_if_absent=True)
    print(f"== job {status}: {message}", flush=True)
    return 0 if status == "finished" else (code or 1)


# -- helpers ------------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Atomic: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as tmp:
        json.dump(data, tmp, indent=2, default=str)
        tmp.write("\n")
    os.replace(tmp.name, path)


def _write_result(directory: Path, status: str, code: int | None, message: str, *, only_if_absent: bool = False) -> None:
    path = directory / RESULT_FILE
    if only_if_absent and path.exists():
        return
    _write_json(path, {"status": status, "exit_code": code, "finished_at": _now(), "message": message})


def _read_events(path: Path) -> Iterator[dict[str, Any]]:
    """metrics.jsonl's events; a half-written last line (the trainer is appending) is skipped."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            yield event


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError:
        return 0


def _last_error(directory: Path) -> str:
    """The last ``error: ...`` line a step printed: the reason to show the user."""
    tail = Job(directory).log_tail(200).splitlines()
    for line in reversed(tail):
        if line.startswith("error: "):
            return line[len("error: "):].strip()
    return ""


def _check_name(name: str, what: str) -> None:
    if not _NAME.match(name or ""):
        raise JobError(
            f"{name!r} cannot name a {what}: use 1-64 letters, digits, '.', '_' or '-', starting "
            "with a letter or digit."
        )


def _check_out_free(out: Path, what: str) -> None:
    if out.exists() and any(out.iterdir()):
        raise JobError(f"{what} exists already ({out}). Choose another name, or delete that folder.")


def _resolve_model(model: str) -> str:
    """A hub id stays as it is; an existing folder becomes absolute (the runner runs in the
    project folder, not in the caller's working directory)."""
    text = (model or "").strip()
    if not text:
        raise JobError("Choose a base model: a hub id like google/flan-t5-base, or a model folder.")
    path = Path(text).expanduser()
    return str(path.resolve()) if path.is_dir() else text


def _refuse_secrets(params: Mapping[str, Any]) -> None:
    for key in params:
        if _SECRET_NAME.search(str(key)):
            raise JobError(
                f"{key!r} looks like a secret; jobs record their options on disk. Pass secrets "
                "through the environment (e.g. OPENAI_API_KEY) instead."
            )


def _options(command: str, params: Mapping[str, Any]) -> list[str]:
    """``{"lora_r": 8, "full": True, "skip": False}`` -> ``["--lora-r", "8", "--full"]``,
    checked against the command's parser when its module can be imported, so a misspelt option
    fails here, before anything starts."""
    _refuse_secrets(params)
    known = command_options(command)
    argv: list[str] = []
    for key, value in params.items():
        if value is None or value is False:
            continue
        flag = "--" + str(key).replace("_", "-")
        if known is not None and flag not in known:
            raise JobError(
                f"`python -m finetune {command}` has no option {flag}; it takes: "
                + ", ".join(sorted(known))
            )
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple)):
            argv.extend([flag, *(str(v) for v in value)])
        else:
            argv.extend([flag, str(value)])
    return argv


def command_options(command: str) -> set[str] | None:
    """The option strings ``python -m finetune COMMAND`` accepts; None when its module is not
    importable here (then nothing is checked before the job runs)."""
    try:
        from finetune.cli import COMMANDS

        module_name = COMMANDS[command][0]
        module = __import__(module_name, fromlist=["_"])
    except (ImportError, KeyError):
        return None
    parser = argparse.ArgumentParser(add_help=False)
    configure = getattr(module, f"add_{command.replace('-', '_')}_arguments", None) or getattr(module, "add_arguments", None)
    if configure is None:
        return None
    configure(parser)
    return {option for action in parser._actions for option in action.option_strings}


@contextlib.contextmanager
def _start_lock(settings: Settings) -> Iterator[None]:
    """Two sessions clicking "Start" at once must not both see "nothing running"."""
    import fcntl

    root = jobs_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".start.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _process_start(pid: int) -> int | None:
    """The process's start time in clock ticks (Linux), to tell it from a later process that
    reuses the pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def _alive(pid: int, start: Any = None) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        _CHILDREN.pop(pid, None)
        return False  # ours, and reaped just now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill()
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        return False  # exited; its parent has not reaped it yet
    return start is None or int(fields[19]) == int(start)


def _reap(pid: int) -> None:
    """Collect the exit status of a runner this process started, so no zombie keeps its pid
    (and its process group) around."""
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (zombies do not count)."""
    child = _CHILDREN.get(pgid)
    if child is not None:
        child.poll()
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# -- command line ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m finetune.jobs", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a job's steps (started by the app; not for people)")
    run.add_argument("directory", type=Path)
    commands.add_parser("list", help="jobs, newest first")
    for name, help_text in (("show", "a job's state and the end of its log"), ("cancel", "stop a running job")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("id")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run_job(args.directory)

    from shopbot.settings import get_settings

    settings = get_settings()
    try:
        if args.command == "list":
            for job in list_jobs(settings):
                print(f"{job.id}  {job.status:<9}  {job.kind:<7}  {job.name}  {job.message}")
            return 0
        job = get_job(settings, args.id)
        if args.command == "show":
            print(json.dumps(job.to_dict(), indent=2))
            print(job.log_tail(40))
            return 0
        if job.cancel():
            print(f"cancelled {job.id}")
        else:
            print(f"{job.id} is not running ({job.status})")
        return 0
    except JobError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
