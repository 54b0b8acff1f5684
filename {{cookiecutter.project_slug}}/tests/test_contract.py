"""Contract and property tests: the live API keeps the promises of its own OpenAPI document.

Schemathesis generates requests from /openapi.json, valid and invalid, and checks every
answer: no server error, a documented status, content type, headers and body schema.
Hypothesis checks the request models on their own.
"""
{% if cookiecutter.use_redis %}
import uuid
{%- endif %}
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

from {{ cookiecutter.package_name }}.schemas import ItemIn, ItemPatch

from .live import environment_for, server
{%- if cookiecutter.task_queue == "arq" %}
from .worker_process import forget_keys
{%- endif %}

Operation = APIOperation[Any, Any, Any, Any]
# The docs pages and Swagger UI's files are for people, not API clients.
FOR_PEOPLE = "^/docs"
{%- if cookiecutter.use_websocket %}
# A WebSocket: its 101 and its messages are not HTTP answers that requests could check.
WEBSOCKET = "^/api/v1/items/feed$"
{%- endif %}
EXAMPLES = 40  # per operation and mode


@pytest.fixture(scope="module")
def live_schema(
    tmp_path_factory: pytest.TempPathFactory,
{%- if cookiecutter.database != "none" %}
    database_url: str,
{%- endif %}
{%- if cookiecutter.use_redis %}
    redis_url: str,
{%- endif %}
) -> Iterator[BaseSchema]:
    """The OpenAPI document of a live server, loaded from it."""
    folder: Path = tmp_path_factory.mktemp("contract")
    environment = environment_for(
        folder,
        ACCESS_LOG="false",
{%- if cookiecutter.database != "none" %}
        DATABASE_URL=database_url,
{%- endif %}
{%- if cookiecutter.use_redis %}
        REDIS_URL=redis_url,
        CACHE_PREFIX=f"contract-{uuid.uuid4().hex}:",
{%- endif %}
    )
    with server(environment, folder) as running:
        document = schemathesis.openapi.from_url(f"{running.base}/openapi.json")
{%- if cookiecutter.use_websocket %}
        yield document.exclude(path_regex=FOR_PEOPLE).exclude(path_regex=WEBSOCKET)
{%- else %}
        yield document.exclude(path_regex=FOR_PEOPLE)
{%- endif %}
{%- if cookiecutter.task_queue == "arq" %}
    # Each item made queued a job, which no worker takes here.
    forget_keys(redis_url, environment["CACHE_PREFIX"])
{%- endif %}


def contract_of(operation: Operation, mode: GenerationMode) -> Callable[[], None]:
    """A Hypothesis test sending generated requests to one operation and checking each answer."""
    # A schema-valid If-Match that names another version rightly gets 412, which the
    # "valid data is accepted" check cannot know; every other check still applies.
    conditional = "412" in operation.definition.raw["responses"]
    excluded = [positive_data_acceptance] if conditional else []

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def keeps_the_contract(case: Case[Operation]) -> None:
        case.call_and_validate(excluded_checks=excluded)

    return keeps_the_contract


@pytest.mark.contract
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_keeps_its_documented_contract(live_schema: BaseSchema, mode: GenerationMode) -> None:
    results = list(live_schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) >= 8
    for operation in operations:
        raw = operation.definition.raw
        inputs = raw.get("parameters") or "requestBody" in raw
        if mode is GenerationMode.NEGATIVE and not inputs:
            continue  # nothing to get wrong in a request that takes no input
        contract_of(operation, mode)()


# Whitespace to Python (str.isspace) or to JavaScript (which adds the byte order mark).
BLANK = "".join(chr(code) for code in range(0x3001) if chr(code).isspace()) + "\ufeff"
# Strings of the characters where the two disagree (and a few others), and any strings.
names = st.text(alphabet="\x1c\x1f\x85\ufeff \t\u3000a\x00é", min_size=1, max_size=100) | st.text(
    min_size=1, max_size=100
)


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


@given(st.one_of(st.none(), st.text(max_size=1000).filter(lambda text: "\0" not in text)))
def test_a_patch_may_change_the_description_alone(description: str | None) -> None:
    assert ItemPatch(description=description).model_fields_set == {"description"}
