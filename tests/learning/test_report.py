"""`make evaluate`'s report: figures captioned with the versions they came from, and the summary."""

from __future__ import annotations

from pathlib import Path

from learning.evaluation import Prediction
from learning.report import Report, summary, write


def test_the_report_has_its_figures_its_versions_and_a_one_screen_summary(tmp_path):
    heldout = {
        "en": [Prediction("hi", "greet", "greet", 0.97), Prediction("bye", "goodbye", "greet", 0.51),
               Prediction("no photo", "skip", "skip", 0.8), Prediction("nope", "deny", "deny", 0.9)],
        "es": [Prediction("hola", "greet", "greet", 0.99), Prediction("no", "deny", "deny", 0.7)],
    }
    report = Report(Path("citybot.tar.gz"), {"model": "4aed1d90", "training data": "7d2e0542"}, heldout,
                    cross_validation={"en": {"mean_accuracy": 0.93, "fold_std": 0.04, "macro_f1": 0.92}},
                    stories={"stories": 14, "failed": 1, "exit": 1},
                    faq={"en": [90.7, 97.0, 99.0, 99.5, 100.0]}, faq_questions={"en": 408})
    path = write(report, tmp_path)
    text = path.read_text()
    for figure in ("confusion_en.png", "confusion_es.png", "confidence.png", "f1_per_intent.png", "faq_recall.png"):
        assert (tmp_path / figure).stat().st_size > 5_000 and f"({figure})" in text
    assert "model 4aed1d90, training data 7d2e0542" in text
    assert "goodbye → greet (1)" in text and "13 of 14 conversations" in text
    lines = summary(report)
    assert len(lines) < 25  # one screen
    assert lines[3].split() == ["en", "75.0%", "66.7%", "93.0%", "90.7%", "99.0%"]
    assert lines[4].split()[:3] == ["es", "100.0%", "100.0%"]
