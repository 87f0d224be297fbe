from __future__ import annotations

import json
import logging
import os
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from open311.errors import StoreUnavailable
from open311.store import RequestStore, ServiceRequestRow
from web.app import create_app
from web.deps import get_request_store
from web.settings import WebSettings, get_settings

API_KEY = "app-key-0123456789"
STAFF_KEY = "staff-key-9876543210"
V2 = "/open311/v2"
FORM = "application/x-www-form-urlencoded"
PERSONAL = {
    "email": "ana.citizen@example.org",
    "phone": "+1 555 010 9999",
    "first_name": "Anastasia",
    "last_name": "Quixotewell",
    "device_id": "device-7f3a9c",
    "account_id": "account-42x",
}

TINY_CATALOGUE = """
services:
  - service_code: graffiti
    service_name: Graffiti
    agency_responsible: Parks
    description: Paint on walls.
    group: Streets
    keywords: [graffiti, tag]
    attributes:
      - code: surfaces
        datatype: multivaluelist
        required: true
        description: Where is it?
        values:
          - {key: wall, name: A wall}
          - {key: sign, name: A sign}
          - {key: bench, name: A bench, urgency: high}
      - code: square_metres
        datatype: number
        required: false
        description: How large is it?
      - code: seen_at
        datatype: datetime
        required: false
        description: When did you see it?
"""


def make_client(settings: WebSettings) -> TestClient:
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: settings
    return TestClient(app)


@pytest.fixture
def settings(database_url: str) -> WebSettings:
    return WebSettings(
        database_url=database_url, open311_api_keys=f"other-key, {API_KEY}", open311_staff_keys=STAFF_KEY
    )


@pytest.fixture
def client(settings: WebSettings) -> TestClient:
    return make_client(settings)


@pytest.fixture
def tiny_client(tmp_path: Path, settings: WebSettings) -> TestClient:
    catalogue = tmp_path / "services.yml"
    catalogue.write_text(TINY_CATALOGUE, encoding="utf-8")
    return make_client(settings.copy(update={"services_file": catalogue}))


def pothole(**changes: str | None) -> dict[str, str]:
    fields: dict[str, str | None] = {
        "api_key": API_KEY,
        "jurisdiction_id": "city.example.gov",
        "service_code": "pothole",
        "lat": "40.7128",
        "long": "-74.0060",
        "address_string": "120 Main Street",
        "attribute[size]": "small",
        "attribute[in_traffic_lane]": "no",
        "description": "A hole near the bus stop",
    }
    fields.update(changes)
    return {name: value for name, value in fields.items() if value is not None}


def file_request(client: TestClient, **changes: str | None) -> str:
    response = client.post(f"{V2}/requests.json", data=pothole(**changes))
    assert response.status_code == 201, response.text
    return str(response.json()[0]["service_request_id"])


def xml(response) -> ET.Element:  # type: ignore[no-untyped-def]
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def assert_json_error(response, status: int, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    errors = response.json()
    assert isinstance(errors, list) and errors
    assert all(set(error) == {"code", "description"} and error["code"] == status for error in errors)
    text = " ".join(error["description"] for error in errors)
    for word in words:
        assert word in text, text


def assert_xml_error(response, status: int, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    root = xml(response)
    assert root.tag == "errors"
    errors = root.findall("error")
    assert errors and all(error.findtext("code") == str(status) for error in errors)
    text = " ".join(error.findtext("description") or "" for error in errors)
    for word in words:
        assert word in text, text


def backdate(database_url: str, request_id: str, days: float, column: str = "requested_datetime") -> None:
    engine = sa.create_engine(database_url, future=True)
    with engine.begin() as connection:
        connection.execute(
            sa.update(ServiceRequestRow)
            .where(ServiceRequestRow.service_request_id == request_id)
            .values({column: datetime.now(timezone.utc) - timedelta(days=days)})
        )
    engine.dispose()


# --- services --------------------------------------------------------------------------------


def test_service_list_in_json_describes_every_catalogued_service(client):
    response = client.get(f"{V2}/services.json?jurisdiction_id=city.example.gov")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    services = {service["service_code"]: service for service in response.json()}
    assert {"pothole", "streetlight", "power_outage", "street_other"} <= set(services)
    pothole_entry = services["pothole"]
    fields = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    assert list(pothole_entry) == fields
    assert pothole_entry["service_name"] == "Pothole" and pothole_entry["group"] == "Streets"
    assert pothole_entry["metadata"] is True and pothole_entry["type"] == "realtime"
    assert "pothole" in pothole_entry["keywords"].split(", ") and len(pothole_entry["keywords"].split(", ")) <= 10
    assert services["street_other"]["metadata"] is False  # no questions to ask


def test_service_list_in_xml_has_one_service_element_per_service(client):
    root = xml(client.get(f"{V2}/services.xml"))
    assert root.tag == "services"
    first = root.find("service[service_code='pothole']")
    assert first is not None
    assert first.findtext("service_name") == "Pothole" and first.findtext("metadata") == "true"
    assert len(root.findall("service")) == len(client.get(f"{V2}/services.json").json())


@pytest.mark.parametrize(
    "locale, name", [("es", "Bache"), ("fr-CA", "Nid-de-poule"), ("de", "Pothole"), ("", "Pothole")]
)
def test_service_list_speaks_the_locale_asked_for_and_falls_back_to_english(client, locale, name):
    services = client.get(f"{V2}/services.json", params={"locale": locale}).json()
    assert next(s for s in services if s["service_code"] == "pothole")["service_name"] == name


def test_service_definition_lists_the_questions_and_their_allowed_answers(client):
    definition = client.get(f"{V2}/services/pothole.json").json()
    assert definition["service_code"] == "pothole"
    size = definition["attributes"][0]
    assert size == {
        "variable": True,
        "code": "size",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "How big is it?",
        "values": [
            {"key": "small", "name": "Smaller than a dinner plate"},
            {"key": "medium", "name": "About the size of a car tyre"},
            {"key": "large", "name": "Bigger than a car tyre"},
        ],
    }
    assert [a["order"] for a in definition["attributes"]] == [1, 2]


def test_service_definition_in_xml_and_in_spanish(client):
    root = xml(client.get(f"{V2}/services/pothole.xml?locale=es"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "pothole"
    attribute = root.find("attributes/attribute[code='size']")
    assert attribute is not None
    assert attribute.findtext("description") == "¿De qué tamaño es?"
    assert [v.findtext("key") for v in attribute.findall("values/value")] == ["small", "medium", "large"]
    assert attribute.find("values/value[key='small']").findtext("name") == "Más chico que un plato"  # type: ignore[union-attr]


def test_unknown_service_definition_is_an_open311_not_found(client):
    assert_json_error(client.get(f"{V2}/services/unicorns.json"), 404, "unicorns")
    assert_xml_error(client.get(f"{V2}/services/unicorns.xml"), 404, "unicorns")


def test_catalogue_edits_are_served_without_a_restart(tmp_path, settings):
    catalogue = tmp_path / "services.yml"
    catalogue.write_text(TINY_CATALOGUE, encoding="utf-8")
    client = make_client(settings.copy(update={"services_file": catalogue}))
    assert [s["service_name"] for s in client.get(f"{V2}/services.json").json()] == ["Graffiti"]
    catalogue.write_text(TINY_CATALOGUE.replace("service_name: Graffiti", "service_name: Tags"), encoding="utf-8")
    later = catalogue.stat().st_mtime + 5
    os.utime(catalogue, (later, later))
    assert [s["service_name"] for s in client.get(f"{V2}/services.json").json()] == ["Tags"]


def test_unreadable_catalogue_is_an_open311_service_unavailable(tmp_path, settings):
    client = make_client(settings.copy(update={"services_file": tmp_path / "missing.yml"}))
    assert_json_error(client.get(f"{V2}/services.json"), 503, "try again later")


# --- POST requests ---------------------------------------------------------------------------


def test_form_encoded_request_is_filed_and_served_back_in_both_formats(client):
    response = client.post(f"{V2}/requests.xml", data=pothole(account_id="account-42x"))
    assert response.status_code == 201
    created = xml(response)
    assert created.tag == "service_requests"
    request_id = created.findtext("request/service_request_id")
    assert request_id and request_id.startswith("SR-")
    assert created.findtext("request/account_id") == "account-42x"  # echoed to its submitter only

    [served] = client.get(f"{V2}/requests/{request_id}.json").json()
    assert served["service_request_id"] == request_id
    assert served["status"] == "open" and served["service_code"] == "pothole" and served["service_name"] == "Pothole"
    assert served["address"] == "120 Main Street" and served["lat"] == 40.7128 and served["long"] == -74.006
    assert served["description"] == "A hole near the bus stop"
    assert served["agency_responsible"] == "Public Works - Street Maintenance"
    assert served["expected_datetime"] is None and served["zipcode"] is None and served["media_url"] is None
    requested = datetime.fromisoformat(served["requested_datetime"].replace("Z", "+00:00"))
    assert requested.tzinfo is not None and abs(datetime.now(timezone.utc) - requested) < timedelta(minutes=1)

    request = xml(client.get(f"{V2}/requests/{request_id}.xml")).find("request")
    assert request is not None
    assert request.findtext("service_request_id") == request_id and request.findtext("status") == "open"
    assert request.find("media_url") is not None and request.findtext("media_url") in ("", None)
    assert [child.tag for child in request] == list(served)  # the same fields, in the spec's order


@pytest.mark.parametrize(
    "attributes",
    [
        {"attribute": {"size": "large", "in_traffic_lane": "no"}},
        {"attribute[size]": "large", "attribute[in_traffic_lane]": ["no"]},
    ],
)
def test_json_request_is_filed_with_its_answers_and_triage_urgency(client, settings, attributes):
    body = {"api_key": API_KEY, "service_code": "pothole", "lat": 40.7, "long": -74.0, **attributes}
    response = client.post(f"{V2}/requests.json", json=body)
    assert response.status_code == 201, response.text
    [created] = response.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    stored = RequestStore.from_url(settings.database_url).get(created["service_request_id"])
    assert stored is not None
    assert stored.attributes == {"size": "large", "in_traffic_lane": "no"}
    assert stored.urgency == "high"  # a pothole bigger than a car tyre (triage.report_urgency)
    assert stored.channel == "open311" and stored.lat == 40.7


def test_a_routine_report_keeps_the_services_urgency_and_alarming_words_raise_it(client, settings):
    store = RequestStore.from_url(settings.database_url)
    routine = store.get(file_request(client, description="A hole near the bus stop"))
    alarming = store.get(file_request(client, description="It is dangerous, a cyclist nearly fell"))
    assert routine is not None and routine.urgency == "normal"
    assert alarming is not None and alarming.urgency == "high"


def test_multivaluelist_takes_repeated_keys_and_typed_attributes_are_checked(tiny_client, settings):
    fields = [
        ("api_key", API_KEY), ("service_code", "graffiti"), ("address_id", "A-1234"),
        ("attribute[surfaces][]", "wall"), ("attribute[surfaces][]", "bench"),
        ("attribute[square_metres]", "2.5"), ("attribute[seen_at]", "2024-05-01T08:00:00-04:00"),
    ]
    body = "&".join(f"{name}={value}".replace("+", "%2B") for name, value in fields)
    response = tiny_client.post(f"{V2}/requests.json", content=body, headers={"content-type": FORM})
    assert response.status_code == 201, response.text
    stored = RequestStore.from_url(settings.database_url).get(response.json()[0]["service_request_id"])
    assert stored is not None and stored.address_id == "A-1234"
    assert stored.attributes == {
        "surfaces": ["wall", "bench"], "square_metres": "2.5", "seen_at": "2024-05-01T08:00:00-04:00"
    }
    assert stored.urgency == "high"  # a bench carries urgency: high

    bad = {"api_key": API_KEY, "service_code": "graffiti", "address_id": "A-1",
           "attribute": {"surfaces": ["wall", "roof"], "square_metres": "big", "seen_at": "yesterday"}}
    assert_json_error(
        tiny_client.post(f"{V2}/requests.json", json=bad), 400,
        "attribute[surfaces] must be one of: wall, sign, bench", "attribute[square_metres] must be a number",
        "attribute[seen_at] must be an ISO 8601",
    )


def test_request_without_service_code_is_a_bad_request(client):
    assert_json_error(client.post(f"{V2}/requests.json", data=pothole(service_code=None)), 400, "service_code")
    assert_xml_error(client.post(f"{V2}/requests.xml", data=pothole(service_code="  ")), 400, "service_code")


def test_request_for_an_unknown_service_is_not_found(client):
    assert_json_error(client.post(f"{V2}/requests.json", data=pothole(service_code="unicorns")), 404, "unicorns")
    assert_xml_error(client.post(f"{V2}/requests.xml", data=pothole(service_code="unicorns")), 404, "was not found")


def test_request_without_any_location_is_a_bad_request(client):
    response = client.post(f"{V2}/requests.xml", data=pothole(lat=None, long=None, address_string=None))
    assert_xml_error(response, 400, "a location is required")
    # Any one of the three is enough.
    assert client.post(f"{V2}/requests.json", data=pothole(lat=None, long=None)).status_code == 201
    assert client.post(f"{V2}/requests.json", data=pothole(address_string=None)).status_code == 201
    only_id = pothole(lat=None, long=None, address_string=None, address_id="PARCEL-77")
    assert client.post(f"{V2}/requests.json", data=only_id).status_code == 201


@pytest.mark.parametrize(
    "lat, long, problem",
    [
        ("north", "-74", "lat must be a number"),
        ("91", "-74", "lat must be a number from -90 to 90"),
        ("40", "-180.5", "long must be a number from -180 to 180"),
        ("nan", "inf", "lat must be a number"),
        ("40", None, "lat and long must be sent together"),
    ],
)
def test_coordinates_must_be_numbers_in_range(client, lat, long, problem):
    assert_json_error(client.post(f"{V2}/requests.json", data=pothole(lat=lat, long=long)), 400, problem)


def test_json_coordinates_must_be_numbers_not_booleans_or_nan(client):
    body = {"api_key": API_KEY, "service_code": "pothole", "lat": True, "long": -74, "attribute[size]": "small",
            "attribute[in_traffic_lane]": "no"}
    assert_json_error(client.post(f"{V2}/requests.json", json=body), 400, "lat must be text or a number")
    raw = json.dumps({"api_key": API_KEY, "service_code": "pothole", "lat": "LAT", "long": 1}).replace('"LAT"', "NaN")
    response = client.post(f"{V2}/requests.json", content=raw, headers={"content-type": "application/json"})
    assert_json_error(response, 400, "not valid JSON")


def test_missing_required_attribute_is_named(client):
    response = client.post(f"{V2}/requests.json", data=pothole(**{"attribute[size]": None}))
    assert_json_error(response, 400, "attribute[size] is required")
    assert "in_traffic_lane" not in response.text


def test_list_answer_outside_its_keys_is_refused_with_the_keys(client):
    response = client.post(f"{V2}/requests.xml", data=pothole(**{"attribute[size]": "gigantic"}))
    assert_xml_error(response, 400, "attribute[size] must be one of: small, medium, large")


def test_answers_to_unknown_questions_and_two_answers_to_a_single_list_are_refused(client):
    response = client.post(f"{V2}/requests.json", data=pothole(**{"attribute[colour]": "red"}))
    assert_json_error(response, 400, "attribute[colour] is not a question of service pothole")
    body = pothole() | {"attribute[size]": ["small", "large"]}
    assert_json_error(client.post(f"{V2}/requests.json", data=body), 400, "attribute[size] takes one value")


def test_every_problem_is_reported_at_once(client):
    response = client.post(f"{V2}/requests.json", data=pothole(lat=None, long=None, address_string=None,
                                                               **{"attribute[size]": None}))
    assert [error["description"].split(":")[0] for error in response.json()] == [
        "a location is required", "attribute[size] is required"
    ]


@pytest.mark.parametrize(
    "changes, problem",
    [
        ({"description": "x" * 4001}, "description is longer than 4000 characters"),
        ({"media_url": "ftp://example.org/p.jpg"}, "media_url must be an http or https URL"),
        ({"media_url": "javascript:alert(1)"}, "media_url must be an http or https URL"),
        ({"media_url": "https://example.org/" + "p" * 2000}, "media_url is longer than 2000 characters"),
        ({"description": "bell \x07 rings"}, "description contains control characters"),
        ({"email": "not-an-address"}, "email is not an e-mail address"),
    ],
)
def test_fields_beyond_their_limits_are_refused(client, changes, problem):
    response = client.post(f"{V2}/requests.json", data=pothole(**changes))
    assert_json_error(response, 400, problem)
    assert "not-an-address" not in response.text  # personal values are never echoed


def test_description_of_exactly_4000_characters_and_an_https_media_url_are_accepted(client):
    request_id = file_request(client, description="é" * 4000, media_url="https://example.org/p.jpg?size=2")
    [served] = client.get(f"{V2}/requests/{request_id}.json").json()
    assert served["description"] == "é" * 4000 and served["media_url"] == "https://example.org/p.jpg?size=2"


@pytest.mark.parametrize("key", [None, "", "wrong-key", API_KEY + "x", API_KEY[:-1]])
def test_post_without_a_valid_api_key_is_forbidden(client, key):
    assert_json_error(client.post(f"{V2}/requests.json", data=pothole(api_key=key)), 403, "api_key")
    assert_xml_error(client.post(f"{V2}/requests.xml", data=pothole(api_key=key)), 403, "api_key")


def test_with_no_keys_configured_every_post_is_forbidden(database_url):
    client = make_client(WebSettings(database_url=database_url))
    assert_json_error(client.post(f"{V2}/requests.json", data=pothole()), 403, "invalid api_key")
    assert_json_error(client.post(f"{V2}/requests.json", data=pothole(api_key="")), 403, "not provided")


def test_staff_keys_may_file_requests_too(client):
    assert client.post(f"{V2}/requests.json", data=pothole(api_key=STAFF_KEY)).status_code == 201


def test_malformed_json_is_an_open311_bad_request(client):
    headers = {"content-type": "application/json"}
    response = client.post(f"{V2}/requests.json", content=b'{"api_key": "x", ', headers=headers)
    assert_json_error(response, 400, "not valid JSON")


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", "42"])
def test_json_body_that_is_not_an_object_is_refused(client, body):
    response = client.post(f"{V2}/requests.xml", content=body, headers={"content-type": "application/json"})
    assert_xml_error(response, 400, "JSON object")


def test_deeply_nested_json_is_refused_not_crashed_on(client):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(f"{V2}/requests.json", content=body, headers={"content-type": "application/json"})
    assert_json_error(response, 400, "not valid JSON")


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x", "application/xml", None])
def test_a_body_of_another_content_type_is_refused(client, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(f"{V2}/requests.json", content=b"api_key=x", headers=headers)
    assert_json_error(response, 400, "application/x-www-form-urlencoded")


def test_a_body_over_one_megabyte_is_refused(client):
    huge = b"description=" + b"a" * 1_100_000
    assert_json_error(client.post(f"{V2}/requests.json", content=huge, headers={"content-type": FORM}), 413, "larger")

    def chunks():  # no Content-Length: the size is counted as the body arrives
        for _ in range(40):
            yield b"a" * 50_000

    response = client.post(f"{V2}/requests.xml", content=chunks(), headers={"content-type": FORM})
    assert_xml_error(response, 413, "larger than 1000000 bytes")


@pytest.mark.parametrize("content_type", [FORM, "application/json"])
def test_binary_garbage_is_an_open311_bad_request(client, content_type):
    garbage = bytes(range(256)) * 8 + b"%ff%fe=%c3%28"
    response = client.post(f"{V2}/requests.json", content=garbage, headers={"content-type": content_type})
    assert_json_error(response, 400, "UTF-8")


def test_a_body_with_too_many_fields_is_refused(client):
    body = "&".join(f"field{n}=x" for n in range(300))
    response = client.post(f"{V2}/requests.json", content=body, headers={"content-type": FORM})
    assert_json_error(response, 400, "200 fields")
    many = {f"field{n}": "x" for n in range(300)}
    assert_xml_error(client.post(f"{V2}/requests.xml", json=many), 400, "200 fields")


def test_percent_encoded_invalid_utf8_is_refused(client):
    body = f"api_key={API_KEY}&service_code=pothole&address_string=%ff%fe"
    assert_json_error(client.post(f"{V2}/requests.json", content=body, headers={"content-type": FORM}), 400, "UTF-8")


def test_emoji_only_description_is_filed_and_served_intact(client):
    emoji = "🕳️🚗💥👀"
    request_id = file_request(client, description=emoji)
    assert client.get(f"{V2}/requests/{request_id}.json").json()[0]["description"] == emoji
    assert xml(client.get(f"{V2}/requests/{request_id}.xml")).findtext("request/description") == emoji


def test_markup_in_user_text_is_escaped_in_xml(client):
    text = '</description><status>closed</status> & <![CDATA[x]]> "quoted"'
    request_id = file_request(client, description=text, address_string="<b>Main</b> & 2nd")
    request = xml(client.get(f"{V2}/requests/{request_id}.xml")).find("request")
    assert request is not None
    assert request.findtext("description") == text and request.findtext("status") == "open"
    assert request.findtext("address") == "<b>Main</b> & 2nd"


def test_text_stored_by_other_channels_with_control_characters_still_makes_valid_xml(client, settings):
    store = RequestStore.from_url(settings.database_url)
    created = store.create(service_code="pothole", service_name="Pothole", description="bell\x07 and null\x00 here",
                           address_string="1 A St", agency_responsible=None)
    response = client.get(f"{V2}/requests/{created.service_request_id}.xml")
    assert xml(response).findtext("request/description") == "bell\ufffd and null\ufffd here"


def test_descriptions_are_served_with_contact_details_masked(client, settings):
    request_id = file_request(client, description="Call me on 555-123-4567 or write to ana@example.org")
    served = client.get(f"{V2}/requests/{request_id}.json").json()[0]["description"]
    assert "555-123-4567" not in served and "ana@example.org" not in served
    stored = RequestStore.from_url(settings.database_url).get(request_id)
    assert stored is not None and "555-123-4567" in stored.description  # the city's staff keep the original


# --- GET requests ----------------------------------------------------------------------------


def test_single_request_is_an_array_of_one_and_ids_are_read_loosely(client):
    request_id = file_request(client)
    served = client.get(f"{V2}/requests/{request_id.lower()}.json").json()
    assert [item["service_request_id"] for item in served] == [request_id]


def test_unknown_request_is_an_open311_not_found(client):
    assert_json_error(client.get(f"{V2}/requests/SR-ZZZZZZZZ.json"), 404, "SR-ZZZZZZZZ")
    assert_xml_error(client.get(f"{V2}/requests/nonsense.xml"), 404, "was not found")


def test_request_list_filters_by_ids_and_ids_override_other_filters(client):
    first, second, third = (file_request(client) for _ in range(3))
    response = client.get(f"{V2}/requests.json", params={"service_request_id": f"{first}, {third}", "status": "closed",
                                                          "service_code": "streetlight"})
    assert {item["service_request_id"] for item in response.json()} == {first, third}
    root = xml(client.get(f"{V2}/requests.xml", params=[("service_request_id", first), ("service_request_id", second)]))
    assert {r.findtext("service_request_id") for r in root.findall("request")} == {first, second}


def test_request_list_filters_by_service_code(client):
    hole = file_request(client)
    light = file_request(client, service_code="streetlight", **{"attribute[size]": None,
                         "attribute[in_traffic_lane]": None, "attribute[light_state]": "out"})

    def ids(params: dict[str, str]) -> list[str]:
        return [item["service_request_id"] for item in client.get(f"{V2}/requests.json", params=params).json()]

    assert ids({"service_code": "streetlight"}) == [light]
    assert ids({"service_code": "pothole"}) == [hole]
    assert set(ids({"service_code": "pothole,streetlight"})) == {hole, light}
    assert ids({"service_code": "unicorns"}) == []
    assert set(ids({"service_code": ""})) == {hole, light}  # an empty parameter is an absent one


def test_request_list_filters_by_status(client):
    still_open, closed = file_request(client), file_request(client)
    client.post(f"{V2}/requests/{closed}/status.json", data={"api_key": STAFF_KEY, "status": "closed"})

    def ids(status: str) -> set[str]:
        return {item["service_request_id"] for item in client.get(f"{V2}/requests.json?status={status}").json()}

    assert ids("open") == {still_open}
    assert ids("closed") == {closed}
    assert ids("open,closed") == {still_open, closed}
    assert_json_error(client.get(f"{V2}/requests.json?status=pending"), 400, "status must be open or closed")


def test_request_list_defaults_to_the_last_90_days_newest_first(client, database_url):
    old, older, recent, newest = (file_request(client) for _ in range(4))
    backdate(database_url, old, 100)
    backdate(database_url, older, 120)
    backdate(database_url, recent, 1)
    served = [item["service_request_id"] for item in client.get(f"{V2}/requests.json").json()]
    assert served == [newest, recent]
    # By id, the old ones are still there (ids override the date range).
    assert len(client.get(f"{V2}/requests.json?service_request_id={old},{older}").json()) == 2


def test_request_list_filters_by_start_and_end_date(client, database_url):
    old, recent = file_request(client), file_request(client)
    backdate(database_url, old, 30)
    now = datetime.now(timezone.utc)

    def ids(**params: str) -> list[str]:
        response = client.get(f"{V2}/requests.json", params=params)
        assert response.status_code == 200, response.text
        return [item["service_request_id"] for item in response.json()]

    w3c = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    assert ids(start_date=w3c(now - timedelta(days=2))) == [recent]
    assert ids(end_date=w3c(now - timedelta(days=2))) == [old]
    assert ids(start_date=w3c(now - timedelta(days=40)), end_date=w3c(now - timedelta(days=20))) == [old]
    local = (now - timedelta(days=40)).astimezone(timezone(timedelta(hours=-5))).isoformat(timespec="seconds")
    assert ids(start_date=local) == [recent, old]  # an offset other than Z
    assert ids(start_date=(now - timedelta(days=40)).date().isoformat()) == [recent, old]  # a date: UTC midnight


@pytest.mark.parametrize(
    "params, problem",
    [
        ({"start_date": "yesterday"}, "start_date must be a W3C date-time"),
        ({"end_date": "2024-13-01T00:00:00Z"}, "end_date must be a W3C date-time"),
        ({"start_date": "2024-01-01T00:00:00"}, "with an offset"),  # no time zone: ambiguous by hours
        ({"start_date": "2024-03-01T00:00:00Z", "end_date": "2024-02-01T00:00:00Z"}, "start_date is after end_date"),
        ({"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-06-01T00:00:00Z"}, "more than 90 days"),
        ({"start_date": "9999-12-31T00:00:00Z"}, "out of range"),
        ({"end_date": "0001-01-02T00:00:00Z"}, "out of range"),
        ({"service_code": "pot\x00hole"}, "not allowed"),
        ({"service_request_id": "SR-\x00"}, "not allowed"),
    ],
)
def test_malformed_or_too_wide_dates_are_a_bad_request(client, params, problem):
    assert_json_error(client.get(f"{V2}/requests.json", params=params), 400, problem)
    assert_xml_error(client.get(f"{V2}/requests.xml", params=params), 400, problem)


def test_an_id_with_a_nul_character_is_a_bad_request_not_a_crash(client):
    assert_json_error(client.get(f"{V2}/requests/SR-%00.json"), 400, "not allowed")


def test_request_list_returns_at_most_1000_requests(client, database_url):
    RequestStore.from_url(database_url)
    engine = sa.create_engine(database_url, future=True)
    now = datetime.now(timezone.utc)
    rows = [
        {"service_request_id": f"SR-{n:08d}", "service_code": "pothole", "service_name": "Pothole", "description": "",
         "status": "open", "requested_datetime": now - timedelta(seconds=n), "updated_datetime": now}
        for n in range(1001)
    ]
    with engine.begin() as connection:
        connection.execute(sa.insert(ServiceRequestRow), rows)
    engine.dispose()
    served = client.get(f"{V2}/requests.json").json()
    assert len(served) == 1000
    assert served[0]["service_request_id"] == "SR-00000000" and served[-1]["service_request_id"] == "SR-00000999"


# --- the status extension --------------------------------------------------------------------


def test_staff_key_changes_the_status_and_the_change_is_recorded(client, settings):
    request_id = file_request(client)
    before = client.get(f"{V2}/requests/{request_id}.json").json()[0]
    response = client.post(
        f"{V2}/requests/{request_id}/status.xml",
        data={"api_key": STAFF_KEY, "status": "closed", "status_notes": "Filled on 23 Nov",
              "agency_responsible": "Crew 7"},
    )
    assert response.status_code == 200, response.text
    request = xml(response).find("request")
    assert request is not None and request.findtext("status") == "closed"
    assert request.findtext("status_notes") == "Filled on 23 Nov" and request.findtext("agency_responsible") == "Crew 7"
    after = client.get(f"{V2}/requests/{request_id}.json").json()[0]
    assert after["status"] == "closed" and after["updated_datetime"] >= before["updated_datetime"]

    reopened = client.post(f"{V2}/requests/{request_id}/status.json",
                           json={"api_key": STAFF_KEY, "status": "open", "status_notes": "Sinking again"})
    assert reopened.json()[0]["status"] == "open" and reopened.json()[0]["agency_responsible"] == "Crew 7"
    changes = RequestStore.from_url(settings.database_url).changes_after(0, 10)
    assert [(c.service_request_id, c.old_status, c.new_status, c.status_notes) for c in changes] == [
        (request_id, "open", "closed", "Filled on 23 Nov"),
        (request_id, "closed", "open", "Sinking again"),
    ]


def test_repeating_the_same_status_changes_nothing(client, settings, database_url):
    request_id = file_request(client)
    change = {"api_key": STAFF_KEY, "status": "closed", "status_notes": "Done"}
    client.post(f"{V2}/requests/{request_id}/status.json", data=change)
    backdate(database_url, request_id, 2, column="updated_datetime")  # so that any write would show
    before = client.get(f"{V2}/requests/{request_id}.json").json()[0]["updated_datetime"]
    again = client.post(f"{V2}/requests/{request_id}/status.json", data=change).json()[0]
    assert again["updated_datetime"] == before and before < (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
    assert len(RequestStore.from_url(settings.database_url).changes_after(0, 10)) == 1


@pytest.mark.parametrize("key", [API_KEY, "wrong", None])
def test_only_staff_keys_may_change_a_status(client, key):
    request_id = file_request(client)
    body = {"status": "closed"} | ({"api_key": key} if key else {})
    assert_json_error(client.post(f"{V2}/requests/{request_id}/status.json", data=body), 403, "api_key")
    assert client.get(f"{V2}/requests/{request_id}.json").json()[0]["status"] == "open"


def test_status_change_of_an_unknown_request_or_to_an_unknown_status_is_refused(client):
    request_id = file_request(client)
    url = f"{V2}/requests/{request_id}/status.json"
    assert_json_error(client.post(url, data={"api_key": STAFF_KEY, "status": "done"}), 400, "must be open or closed")
    assert_json_error(client.post(url, data={"api_key": STAFF_KEY}), 400, "status was not provided")
    assert_json_error(client.post(url, data={"api_key": STAFF_KEY, "status": "open", "status_notes": "n" * 2001}),
                      400, "status_notes is longer than 2000")
    missing = client.post(f"{V2}/requests/SR-ZZZZZZZZ/status.xml", data={"api_key": STAFF_KEY, "status": "closed"})
    assert_xml_error(missing, 404, "SR-ZZZZZZZZ")


# --- privacy ---------------------------------------------------------------------------------


def test_personal_fields_are_stored_but_never_served_or_logged(client, settings, caplog):
    caplog.set_level(logging.DEBUG)
    request_id = file_request(client, **PERSONAL)
    client.post(f"{V2}/requests/{request_id}/status.json", data={"api_key": STAFF_KEY, "status": "closed"})
    responses = [
        client.get(f"{V2}/requests/{request_id}.json"),
        client.get(f"{V2}/requests/{request_id}.xml"),
        client.get(f"{V2}/requests.json"),
        client.get(f"{V2}/requests.xml"),
        client.get(f"{V2}/requests.json?service_request_id={request_id}"),
    ]
    for response in responses:
        assert response.status_code == 200 and request_id in response.text
        for name, value in PERSONAL.items():
            assert value not in response.text and name not in response.text, (name, response.url)
    assert not any(value in caplog.text for value in PERSONAL.values())
    stored = RequestStore.from_url(settings.database_url).get(request_id)
    assert stored is not None
    assert (stored.email, stored.phone, stored.first_name, stored.last_name) == (
        PERSONAL["email"], PERSONAL["phone"], PERSONAL["first_name"], PERSONAL["last_name"]
    )
    assert (stored.device_id, stored.account_id) == (PERSONAL["device_id"], PERSONAL["account_id"])
    assert not any(value in repr(stored) for value in PERSONAL.values())


# --- failures and unknown paths --------------------------------------------------------------


def test_unreachable_database_is_an_open311_service_unavailable(tmp_path, settings):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    client = make_client(settings.copy(update={"database_url": f"sqlite:///{blocker}/sub/db.sqlite"}))
    response = client.get(f"{V2}/requests.json")
    assert_json_error(response, 503, "try again later")
    assert str(tmp_path) not in response.text  # no internals for the client
    assert_xml_error(client.post(f"{V2}/requests.xml", data=pothole()), 503, "try again later")
    assert client.get(f"{V2}/services.json").status_code == 200  # the catalogue needs no database


class DownStore(RequestStore):
    """A store whose database went away after start-up."""

    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise StoreUnavailable("OperationalError: database is locked")

    search = create = get  # type: ignore[assignment]


def test_database_failing_after_start_up_is_an_open311_service_unavailable(client, settings):
    store = DownStore.from_url(settings.database_url)
    client.app.dependency_overrides[get_request_store] = lambda: store  # type: ignore[attr-defined]
    assert_xml_error(client.get(f"{V2}/requests/SR-7K3M9Q2X.xml"), 503, "try again later")
    assert_json_error(client.get(f"{V2}/requests.json"), 503)
    assert_json_error(client.post(f"{V2}/requests.json", data=pothole()), 503)


@pytest.mark.parametrize(
    "method, path", [("GET", "/services.csv"), ("GET", "/requests.html"), ("POST", "/requests.csv")]
)
def test_unknown_format_suffix_is_an_open311_not_found(client, method, path):
    response = client.request(method, V2 + path, data=pothole())
    assert_xml_error(response, 404, "use .json or .xml")  # XML: the spec's required format


def test_unknown_paths_and_methods_under_the_prefix_get_open311_errors(client):
    assert_xml_error(client.get(f"{V2}/services"), 404)
    assert_json_error(client.get(f"{V2}/nothing/here", headers={"accept": "application/json"}), 404)
    response = client.delete(f"{V2}/services.json")
    assert_json_error(response, 405)
    assert "GET" in response.headers["allow"]


def test_the_rest_of_the_site_keeps_fastapis_answers(client):
    response = client.get("/nothing")
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


def test_open311_answers_are_utf8_json_arrays_without_detail(client):
    for path in ("/services.json", "/requests.json", "/requests/SR-ZZZZZZZZ.json", "/services/none.json"):
        body = client.get(V2 + path).content
        assert isinstance(json.loads(body.decode("utf-8")), (list, dict))
        assert b'"detail"' not in body
