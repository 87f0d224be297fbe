"""`make retrain` for real: a model trained on spoiled data is refused; the good one replaces it; rollback.

One extra training (a few minutes): a copy of the training data with English intents swapped.
The good model is the one `make test` trained (models/citybot.tar.gz).
"""

from __future__ import annotations

import shutil

import pytest
import yaml

from learning.__main__ import main
from learning.registry import Registry, file_hash
from learning.retrain import retrain, train_candidate
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

MODEL = ROOT / "models" / "citybot.tar.gz"
SWAPPED = {"report_street_issue": "faq", "faq": "report_street_issue", "renewal_info": "outage_status",
           "outage_status": "renewal_info", "greet": "goodbye", "goodbye": "greet"}


@pytest.fixture(scope="module")
def spoiled_model(tmp_path_factory) -> object:
    """Trained on data where English examples of six intents carry each other's labels."""
    data = tmp_path_factory.mktemp("spoiled") / "training"
    shutil.copytree(ROOT / "bot" / "data" / "training", data)
    english = data / "nlu_en.yml"
    nlu = yaml.safe_load(english.read_text())
    for block in nlu["nlu"]:
        if block.get("intent") in SWAPPED:
            block["intent"] = SWAPPED[block["intent"]]
    english.write_text(yaml.safe_dump(nlu, allow_unicode=True, sort_keys=False))
    return train_candidate(tmp_path_factory.mktemp("models"), data)


def test_a_worse_model_is_refused_a_better_one_promoted_and_rollback_restores(tmp_path, spoiled_model, capsys):
    assert MODEL.exists(), "`make test` trains the model first"
    production = tmp_path / "models"
    production.mkdir()
    shutil.copy2(MODEL, production / "citybot.tar.gz")
    good = file_hash(MODEL)

    refused = retrain(Registry(production), spoiled_model, 1.0, ROOT / "benchmarks" / "data" / "nlu_heldout",
                      progress=False)
    assert not refused.promote and any(r.startswith("en: accuracy") for r in refused.reasons), refused.lines
    assert file_hash(production / "citybot.tar.gz") == good  # the good model stays in production

    # Now the spoiled model is in production (as if promoted by mistake): the good one must replace it.
    registry = Registry(production)
    registry.promote(spoiled_model, registry.record_for(spoiled_model))
    args = ["--models-dir", str(production), "--quiet"]
    assert main(["retrain", "--candidate", str(production / "history" / f"{registry.records[0].name}.tar.gz"),
                 *args]) == 0
    out = capsys.readouterr().out
    assert "Promoted" in out and "language" in out and "en" in out
    assert file_hash(production / "citybot.tar.gz") == good

    assert main(["rollback", "--models-dir", str(production)]) == 0
    assert file_hash(production / "citybot.tar.gz") == file_hash(spoiled_model)
    assert main(["models", "--models-dir", str(production)]) == 0
    listing = capsys.readouterr().out
    assert "rolled_back" in listing and "current" in listing and "en " in listing
