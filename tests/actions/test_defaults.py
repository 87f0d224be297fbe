from __future__ import annotations

import os

import pytest
import yaml

from bot.content import load_when_changed
from open311.services import ServiceCatalogue

CATALOGUE = """services:
  - service_code: pothole
    service_name: {name}
    agency_responsible: Public Works
    keywords: [pothole]
"""


def test_edited_content_is_used_without_a_restart_and_a_broken_edit_keeps_the_last_good(tmp_path):
    path = tmp_path / "services.yml"
    path.write_text(CATALOGUE.format(name="Pothole"))
    assert load_when_changed(path, ServiceCatalogue.from_file).get("pothole").service_name == "Pothole"

    path.write_text(CATALOGUE.format(name="Road pothole"))
    os.utime(path, (1, 1))
    assert load_when_changed(path, ServiceCatalogue.from_file).get("pothole").service_name == "Road pothole"

    path.write_text("services: [{broken")
    os.utime(path, (2, 2))
    assert load_when_changed(path, ServiceCatalogue.from_file).get("pothole").service_name == "Road pothole"


def test_a_broken_file_with_no_good_version_raises(tmp_path):
    path = tmp_path / "renewals.yml"
    path.write_text("services: [{broken")
    with pytest.raises(yaml.YAMLError):
        load_when_changed(path, ServiceCatalogue.from_file)
