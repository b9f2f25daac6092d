"""The Fine-tune page (AppTest), as staff use it: hidden from shoppers; a training job started
from the page runs in the background, shows its progress, ends with the before/after table,
and its adapter is activated for the shop and shown as active on the Model page. One test:
the app's first start (demo catalog, embedding model) is the slow part, paid once."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from finetune.modeling import load_tokenizer
from shopbot.adapters import read_active
from shopbot.settings import Settings
from tests.conftest import ROOT, wait_until
from tests.finetune_data import make_trainable_t5, write_dataset
from tests.test_app import app_env, new_app, password_hash, sign_in, small_catalog  # noqa: F401

PAGE = "pages/finetune.py"


def button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no {label!r} button; buttons: {[b.label for b in at.button]}"
    return matches[0]


def page_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_staff_train_from_the_page_then_activate_the_adapter(app_env):
    finetune_dir = app_env / "finetune"
    model = make_trainable_t5(finetune_dir / "models" / "tiny")
    write_dataset(finetune_dir / "datasets" / "demo", load_tokenizer(model), train=16, val=1, test=1)

    at = new_app()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)  # a shopper has no Fine-tune entry at all
    direct = AppTest.from_file(str(ROOT / PAGE), default_timeout=60).run()  # a guessed URL
    assert not direct.exception, direct.exception
    assert "for store staff" in direct.warning[0].value
    assert not direct.button and not direct.selectbox

    sign_in(at)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="ft_model").value == str(model)  # local models come first
    assert at.dataframe[0].value["name"].tolist() == ["demo"]
    assert at.radio(key="ft_preset").value == "Quick try"
    # shorter answers than the preset, so the tiny model's evaluation is quick
    at.number_input(key="ft_answer_tokens").set_value(8)
    at.text_input(key="ft_adapter_name").input("tiny-demo")
    button(at, "Start training").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert not at.warning, [w.value for w in at.warning]

    # the running job, with its progress bar; "Start training" waits for it to end
    assert "**tiny-demo** · train ·" in page_text(at)
    assert at.progress and at.progress[0].value < 100
    assert button(at, "Start training").disabled
    assert button(at, "Cancel")
    assert at.text_input(key="ft_adapter_name").value != "tiny-demo"  # the next run needs a new name

    def finished() -> bool:
        at.run()
        assert not at.exception, at.exception
        return "· finished ·" in page_text(at)

    wait_until(finished, timeout=90, what="the training job started from the page", interval=0.5)
    assert not at.progress
    table = next(d.value for d in at.dataframe if "ROUGE-L" in d.value.columns)
    assert table["model"].str.startswith("base").any() and table["model"].str.startswith("tuned").any()
    assert "fact accuracy" in table.columns

    button(at, "Activate tiny-demo").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    active = read_active(Settings(_env_file=None, data_dir=app_env))
    assert active is not None and active.adapter == finetune_dir / "adapters" / "tiny-demo"
    assert active.base_model == str(model)

    at.switch_page("pages/model.py").run()
    assert not at.exception, at.exception
    assert any("Active adapter: **tiny-demo**" in s.value for s in at.success)
    adapters = next(d.value for d in at.dataframe if "best val loss" in d.value.columns)
    assert adapters.loc[adapters["name"] == "tiny-demo", "active"].tolist() == ["✓"]

    # with SHOPBOT_GENERATOR=auto the next answer comes from flan-t5 with the adapter...
    at.selectbox[0].select("auto")
    button(at, "Apply to my session").click().run()
    assert "Adapter: tiny-demo (activated for the shop)" in at.info[0].value
    button(at, "Ask").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("flan-t5 answered in") for s in at.success), [s.value for s in at.success]

    # ... and after Deactivate from the extractive composer again (no model configured)
    button(at, "Deactivate").click().run()
    assert not at.exception, at.exception
    assert read_active(Settings(_env_file=None, data_dir=app_env)) is None
    assert not any("Active adapter" in s.value for s in at.success)
    button(at, "Ask").click().run()
    assert any(s.value.startswith("extractive answered in") for s in at.success), [s.value for s in at.success]
