"""Staff: specialise the local Flan-T5 to this shop. Build a dataset from the catalog and rated
chats, train a LoRA adapter in the background, watch its loss, compare ROUGE before and after,
and activate it for the shop.

Jobs run as separate processes and live on disk (finetune.jobs), so this page can be left,
reloaded or opened in another browser while one runs; only the progress panel refreshes
itself, the rest of the page stays usable."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import streamlit as st

from finetune import jobs
from pages.adapter_panel import activate_adapter, render_adapters, render_evaluation
from pages.common import catalog_service, require_staff

require_staff()
settings = catalog_service().settings
state = st.session_state

HUB_MODELS = ["google/flan-t5-small", "google/flan-t5-base", "google/flan-t5-large"]
TINY_MODEL_DIR = settings.finetune_dir / "models" / "tiny-t5"
REFRESH_S = 2.0

# Preset -> widget values. Keys are `python -m finetune train` options, except the two
# "eval_" ones, which go to `finetune evaluate` (the before/after table). 0 = no limit.
PRESETS: dict[str, dict[str, float | int]] = {
    "Quick try": {
        "epochs": 1, "lr": 1e-3, "lora_r": 8, "lora_alpha": 16, "lora_dropout": 0.05,
        "batch_size": 8, "grad_accum": 1, "max_eval_examples": 32, "log_every": 1,
        "answer_tokens": 64, "eval_limit": 50,
    },
    "Balanced": {
        "epochs": 3, "lr": 1e-3, "lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.05,
        "batch_size": 8, "grad_accum": 2, "max_eval_examples": 0, "log_every": 5,
        "answer_tokens": 128, "eval_limit": 0,
    },
    "Thorough": {
        "epochs": 8, "lr": 5e-4, "lora_r": 32, "lora_alpha": 64, "lora_dropout": 0.1,
        "batch_size": 8, "grad_accum": 4, "max_eval_examples": 0, "log_every": 10,
        "answer_tokens": 160, "eval_limit": 0,
    },
}
# name -> (label, step, number format, help)
HYPER: dict[str, tuple[str, float | int, str | None, str | None]] = {
    "epochs": ("Epochs", 1, None, "Passes over the training split (training stops early when the validation loss stops improving)."),
    "lr": ("Learning rate", 1e-4, "%.5f", "Peak learning rate (linear warm-up, then decay)."),
    "lora_r": ("LoRA rank r", 1, None, "Size of the low-rank update: more capacity, more parameters."),
    "lora_alpha": ("LoRA alpha", 1, None, "Scale of the update is alpha / r."),
    "lora_dropout": ("LoRA dropout", 0.01, "%.2f", None),
    "batch_size": ("Batch size", 1, None, "Examples per step; lower it if memory runs out."),
    "grad_accum": ("Gradient accumulation steps", 1, None, "Effective batch = batch size × this."),
    "max_eval_examples": ("Validation examples per epoch (0 = all)", 1, None, "Fewer makes each epoch's ROUGE quicker."),
    "log_every": ("Loss point every N steps", 1, None, None),
    "answer_tokens": ("Longest generated answer (tokens)", 8, None, "For validation ROUGE and the before/after table."),
    "eval_limit": ("Test examples for before/after (0 = all)", 1, None, None),
}

NO_LIMIT = {"max_eval_examples", "eval_limit"}  # 0 allowed: no limit


def training_options() -> tuple[dict[str, object], dict[str, object]]:
    """The widgets' values as (train options, evaluate options); 0 means "no limit"."""
    values = {name: state[f"ft_{name}"] for name in HYPER}
    train = {k: v for k, v in values.items() if k not in ("answer_tokens", "eval_limit")}
    train["max_eval_examples"] = train["max_eval_examples"] or None
    train["eval_max_new_tokens"] = values["answer_tokens"]
    evaluate = {"max_new_tokens": values["answer_tokens"], "limit": values["eval_limit"] or None}
    return train, evaluate


def apply_preset() -> None:
    for name, value in PRESETS[state.ft_preset].items():
        state[f"ft_{name}"] = value


def short_model(model: str) -> str:
    return Path(model).name if "/" in model and Path(model).is_absolute() else model.split("/")[-1]


def taken_adapter_names() -> set[str]:
    folder = settings.finetune_dir / "adapters"
    names = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    return names | {job.name for job in jobs.list_jobs(settings, "train")}


def free_adapter_name(stem: str) -> str:
    """``stem-1``, ``stem-2``…: the first name no adapter or training job has."""
    taken = taken_adapter_names()
    stem = stem[:58]
    return next(f"{stem}-{n}" for n in range(1, 10_000) if f"{stem}-{n}" not in taken)


def when(iso: str) -> str:
    """An ISO timestamp (UTC) as "2026-11-22 19:40 UTC"."""
    return f"{iso[:16].replace('T', ' ')} UTC" if iso else ""


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "…"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"


st.title("Fine-tune")
st.caption(
    "Teach the local Flan-T5 this shop's catalog: build a dataset, train a LoRA adapter in the "
    "background, compare it with the base model, then activate it for every shopper."
)

# -- 1. base model -----------------------------------------------------------------------------

st.subheader("1. Base model")
local_models = [str(path) for path in jobs.list_local_models(settings)]
model_options = [*local_models, *HUB_MODELS]
if "ft_model_next" in state:  # set by "Make a tiny T5" on the previous run
    state.ft_model = state.pop("ft_model_next")
if "ft_model" not in state:
    state.ft_model = settings.flan_t5_model or (local_models[0] if local_models else "google/flan-t5-base")
if state.get("ft_model") not in (None, *model_options):
    model_options.append(state.ft_model)  # typed earlier: keep it selectable
left, right = st.columns([2, 1], vertical_alignment="bottom")
model = left.selectbox(
    "Hub id or model folder",
    model_options,
    key="ft_model",
    accept_new_options=True,
    format_func=lambda m: f"{Path(m).name} (local folder)" if m in local_models else m,
    help="Flan-T5 from the Hugging Face hub (needs internet the first time), or a folder saved "
    "with save_pretrained. Local folders under the fine-tune directory are listed first.",
)
if right.button(
    "Make a tiny T5 (offline demo)", icon=":material/science:",
    help="A small random T5 (~5M parameters) with a tokenizer learnt from the catalog, saved "
    "like a hub checkpoint: try the whole pipeline with no download.",
):
    from finetune.tiny import catalog_texts, make_tiny_t5

    with st.spinner("Training a tokenizer on the catalog and saving a small T5…"):
        try:
            make_tiny_t5(TINY_MODEL_DIR, catalog_texts(settings.catalog_dir), size="base")
        except (OSError, ValueError, RuntimeError) as exc:
            st.error(f"Could not build the tiny T5: {exc}")
        else:
            state.ft_model_next = str(TINY_MODEL_DIR)
            st.rerun()
model = (model or "").strip()
if model in local_models:
    st.caption(f"Local folder: `{model}`")

# -- 2. dataset -----------------------------------------------------------------------------------

st.subheader("2. Dataset")
datasets = jobs.list_datasets(settings)
if datasets:
    st.dataframe(
        [
            {"name": row["name"], "train": row["train"], "val": row["val"], "test": row["test"],
             "tokenizer": row["tokenizer"], "created": when(row["created_at"])}
            for row in datasets
        ],
        hide_index=True,
        width="stretch",
    )
else:
    st.info("No dataset yet: build one from the catalog and the thumbs-up chats below.")
with st.form("build_dataset"):
    st.markdown("**Build a dataset**")
    dataset_name = st.text_input("Dataset name", f"shop-{datetime.now():%Y%m%d-%H%M}")
    include_feedback = st.checkbox("Include chats rated thumbs-up", value=True)
    use_teacher = st.checkbox(
        "Let the OpenAI model write extra question/answer pairs",
        help="Needs OPENAI_API_KEY (or an OpenAI-compatible server) on the server.",
    )
    st.caption(f"Prompts are fitted to the tokenizer of the base model above ({model or 'none chosen'}).")
    build = st.form_submit_button("Build dataset", icon=":material/dataset:")
if build:
    try:
        job = jobs.start_dataset(
            settings,
            name=dataset_name.strip(),
            tokenizer=model,
            options={"no_feedback": not include_feedback, "teacher": use_teacher},
        )
    except (jobs.JobError, ValueError, OSError) as exc:
        st.error(str(exc))
    else:
        state.ft_job_next = job.id  # shown in the Jobs section
        st.rerun()

# -- 3. train -------------------------------------------------------------------------------------

st.subheader("3. Train")
busy = jobs.running_jobs(settings, "train")
if not datasets:
    st.caption("Build a dataset first.")
else:
    names = [row["name"] for row in datasets]
    dataset = st.selectbox("Dataset", names, key="ft_dataset")
    meta = next(row for row in datasets if row["name"] == dataset)
    if meta["tokenizer"] and model and meta["tokenizer"] != model:
        st.warning(
            f"{dataset} was built for {meta['tokenizer']}, not {model}: its prompts are fitted "
            "to another tokenizer. Build a dataset for this model for a fair result."
        )
    if "ft_preset" not in state:
        state.ft_preset = "Quick try"
        apply_preset()
    st.radio("Preset", list(PRESETS), key="ft_preset", horizontal=True, on_change=apply_preset)
    with st.expander("Hyperparameters"):
        columns = st.columns(2)
        for number, (name, (label, step, fmt, help_text)) in enumerate(HYPER.items()):
            low = 0 if name in NO_LIMIT else 1
            columns[number % 2].number_input(
                label, min_value=low if isinstance(step, int) else 0.0, step=step, format=fmt,
                help=help_text, key=f"ft_{name}",
            )
    if state.get("ft_adapter_name") in (None, *taken_adapter_names()):  # new, or used by the last start
        state.ft_adapter_name = free_adapter_name(f"{short_model(model or 'model')}-{dataset}")
    adapter_name = st.text_input("Adapter name", key="ft_adapter_name")
    if busy:
        st.caption(f"Training job {busy[0].name} is running; start the next one when it ends.")
    if st.button("Start training", type="primary", icon=":material/play_arrow:", disabled=bool(busy)):
        params, eval_params = training_options()
        if eval_params["limit"] and eval_params["limit"] >= meta["test"]:
            eval_params["limit"] = None  # the whole test split anyway
        try:
            job = jobs.start_training(
                settings, model=model, dataset=dataset, name=adapter_name.strip(),
                params=params, eval_params=eval_params,
            )
        except (jobs.JobError, ValueError, OSError) as exc:
            st.error(str(exc))
        else:
            state.ft_job_next = job.id  # shown in the Jobs section
            st.rerun()

# -- 4. jobs ------------------------------------------------------------------------------------------


def draw_job(job: jobs.Job) -> None:
    """Status, progress, loss curve and log of one job."""
    status = job.status
    progress = job.progress()
    icon = {"finished": ":material/check_circle:", "failed": ":material/error:", "cancelled": ":material/cancel:"}.get(status, ":material/hourglass_top:")
    st.markdown(f"{icon} **{job.name}** · {job.kind} · {status} · started {when(job.created_at)}")
    if job.kind == "train":
        if status in jobs.RUNNING:
            if progress.phase == "evaluating":
                text = "Training done · scoring the base model and the adapter on the test split…"
            elif progress.total_steps and not progress.step:
                text = f"Step 0/{progress.total_steps} · the first step is running…"
            elif progress.total_steps:
                text = f"Step {progress.step}/{progress.total_steps}"
                if progress.epochs:
                    text += f" · epoch {min(int(progress.epoch or 0) + 1, progress.epochs)}/{progress.epochs}"
                text += f" · ETA {fmt_seconds(progress.eta_s)}"
            else:
                text = "Loading the model and the dataset, measuring the untrained validation loss…"
            st.progress(progress.fraction, text=text)
        if progress.losses:
            st.line_chart(
                {"step": [p["step"] for p in progress.losses], "train loss": [p["loss"] for p in progress.losses]},
                x="step",
                y="train loss",
                height=220,
            )
        if progress.epoch_rows:
            st.dataframe(
                [
                    {k: row.get(k) for k in ("epoch", "step", "train_loss", "val_loss", "rouge1", "rouge2", "rougeL", "best")}
                    for row in progress.epoch_rows
                ],
                hide_index=True,
                width="stretch",
                column_config={
                    **{k: st.column_config.NumberColumn(format="%.4f") for k in ("train_loss", "val_loss")},
                    **{k: st.column_config.NumberColumn(format="%.3f") for k in ("rouge1", "rouge2", "rougeL")},
                },
            )
        if progress.base_val_loss is not None:
            st.caption(f"Validation loss before training: {progress.base_val_loss:.4f}")
        if progress.early_stopped:
            st.caption("Stopped early: the validation loss stopped improving.")
    elif status in jobs.RUNNING:
        st.progress(0.0, text="Building the dataset: retrieving sources and fitting prompts…")
    if status in jobs.RUNNING:
        if st.button("Cancel", key=f"cancel_{job.id}", icon=":material/stop_circle:"):
            with st.spinner("Stopping: finishing the current step and saving a checkpoint…"):
                job.cancel()
            st.rerun()
    elif status == "failed":
        st.error(f"The {job.kind} job failed: {job.message or 'see the log below'}")
    elif status == "cancelled":
        st.warning("Cancelled.")
    with st.expander("Log", expanded=status == "failed"):
        st.code(job.log_tail(40) or "(empty)", language=None)


def draw_live(job_id: str) -> None:
    """Redrawn every few seconds while the job runs; a full rerun when it ends, so the results
    and the Start button catch up."""
    job = jobs.get_job(settings, job_id)
    draw_job(job)
    if job.status not in jobs.RUNNING:
        st.rerun()


st.subheader("4. Jobs")
all_jobs = jobs.list_jobs(settings)
if not all_jobs:
    st.caption("No jobs yet.")
else:
    by_id = {job.id: job for job in all_jobs[:20]}
    if "ft_job_next" in state:  # a job started on the previous run
        state.ft_job_choice = state.pop("ft_job_next")
    if state.get("ft_job_choice") not in by_id:
        running = [job for job in all_jobs if job.status in jobs.RUNNING]
        state.ft_job_choice = (running or all_jobs)[0].id
    chosen = st.selectbox(
        "Job", list(by_id), key="ft_job_choice",
        # labels must not change while a job runs (a status in them would reset the choice)
        format_func=lambda i: f"{by_id[i].name} · {by_id[i].kind} · {when(by_id[i].created_at)}",
    )
    job = by_id[chosen]
    if job.status in jobs.RUNNING:
        st.fragment(draw_live, run_every=REFRESH_S)(job.id)
    else:
        draw_job(job)
        if jobs.can_resume(job) and st.button(
            "Resume from the last checkpoint", key="resume_job", icon=":material/replay:", disabled=bool(busy)
        ):
            try:
                resumed = jobs.resume_training(settings, job.id)
            except (jobs.JobError, OSError) as exc:
                st.error(str(exc))
            else:
                state.ft_job_next = resumed.id
                st.rerun()
        if job.kind == "train" and job.status == "finished":
            st.markdown("**Before and after**")
            render_evaluation(job.evaluation())
            if (job.out / "adapter_config.json").is_file() and st.button(
                f"Activate {job.name}", key="activate_job", type="primary", icon=":material/rocket_launch:"
            ):
                if activate_adapter(settings, str(job.out), job.name):
                    st.rerun()

# -- 5. adapters --------------------------------------------------------------------------------------

st.subheader("5. Adapters")
render_adapters(settings, key="ft")
