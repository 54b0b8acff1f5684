"""Contract and property tests: the live API keeps the promises of its own OpenAPI document.

Schemathesis generates requests from /openapi.json, valid and invalid, and checks every
answer: no server error, a documented status, content type, headers and body schema.
Hypothesis checks the request models on their own.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from schemathesis import APIOperation, BaseSchema, Case, GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.result import Ok

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.routing import endpoints_key
from {{ cookiecutter.package_name }}.schemas import ItemIn, ItemPatch
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import auth_headers
from .live import environment_for, server

Operation = APIOperation[Any, Any, Any, Any]
EXAMPLES = 40  # per operation and mode


@pytest.fixture
def live_schema(settings: Settings, tmp_path: Path) -> Iterator[BaseSchema]:
    """The OpenAPI document of a live server, loaded from it, without the streams.

    A stream (an upgraded connection) answers 101 and then messages: no HTTP answer to check.
    """
    endpoints = create_app(settings)[endpoints_key]
    with server(
        environment_for(tmp_path, settings, ACCESS_LOG="false"), tmp_path
    ) as running:
        document: BaseSchema = schemathesis.openapi.from_url(
            f"{running.base}/openapi.json"
        )
        for endpoint in endpoints:
            if not endpoint.timed:
                document = document.exclude(path=endpoint.openapi_path)
        yield document


def contract_of(
    operation: Operation, mode: GenerationMode, headers: dict[str, str]
) -> Callable[[], None]:
    """A Hypothesis test sending generated requests to one operation and checking each answer.

    `headers` go with every request (the credentials of the tests' user, if any).
    """
    raw = operation.definition.raw
    # A schema-valid If-Match that names another version rightly gets 412, and a generated
    # login form (form-encoded credentials) rightly gets 400, which the "valid data is
    # accepted" check cannot know; every other check still applies.
    conditional = "412" in raw["responses"]
    credentials = "application/x-www-form-urlencoded" in raw.get("requestBody", {}).get(
        "content", {}
    )
    excluded = [positive_data_acceptance] if conditional or credentials else []

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck)
    )
    def keeps_the_contract(case: Case[Operation]) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    return keeps_the_contract


@pytest.mark.contract
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_keeps_its_documented_contract(
    live_schema: BaseSchema, mode: GenerationMode, settings: Settings
) -> None:
    results = list(live_schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) >= 8
    for operation in operations:
        raw = operation.definition.raw
        inputs = raw.get("parameters") or "requestBody" in raw
        if mode is GenerationMode.NEGATIVE and not inputs:
            continue  # nothing to get wrong in a request that takes no input
        contract_of(operation, mode, auth_headers(settings))()


# Whitespace to Python (str.isspace) or to JavaScript (which adds the byte order mark).
BLANK = "".join(chr(code) for code in range(0x3001) if chr(code).isspace()) + "\ufeff"
# Strings of the characters where the two disagree (and a few others), and any strings.
names = st.text(
    alphabet="\x1c\x1f\x85\ufeff \t\u3000a\x00é", min_size=1, max_size=100
) | st.text(min_size=1, max_size=100)


@given(names)
def test_a_name_is_kept_as_given_when_not_blank_and_refused_when_blank_or_with_nul(
    name: str,
) -> None:
    if name.strip(BLANK) and "\0" not in name:
        assert ItemIn(name=name).name == name
    else:
        with pytest.raises(ValidationError):
            ItemIn(name=name)


@given(st.text(max_size=100).filter(lambda name: not name.strip(BLANK) or "\0" in name))
def test_blank_names_and_nul_characters_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        ItemIn(name=name)


@given(st.text(min_size=101, max_size=300))
def test_longer_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        ItemIn(name=name)


@given(
    st.one_of(st.none(), st.text(max_size=1000).filter(lambda text: "\0" not in text))
)
def test_a_patch_may_change_the_description_alone(description: str | None) -> None:
    assert ItemPatch(description=description).model_fields_set == {"description"}
