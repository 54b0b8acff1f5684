"""RFC 9457 problem details: the one shape every error answer takes."""

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Final, TypeAlias, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

PROBLEM_JSON: Final = "application/problem+json"
M = TypeVar("M", bound=BaseModel)
# Turns an error of the domain into the answer that the client gets.
ToProblem: TypeAlias = Callable[[Any], "ProblemError"]


class ProblemError(Exception):
    """An error that becomes a problem+json answer; raise it from handlers and services."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail
        self.headers = headers
        self.extensions = extensions

    def response(self) -> web.Response:
        """The problem+json answer."""
        return problem_response(
            self.status, self.detail, headers=self.headers, **self.extensions
        )


problems_key = web.AppKey("problems", dict[type[Exception], ToProblem])


def register_problems(
    app: web.Application, problems: Mapping[type[Exception], ToProblem]
) -> None:
    """Answer these errors of the domain, raised by any handler, as these problems.

    Components register their own errors, so that no status code is chosen below the edge.
    """
    app.setdefault(problems_key, {}).update(problems)


def as_problem(app: web.Application, error: Exception) -> ProblemError | None:
    """The error itself if it is a problem, else the one registered for its class, if any."""
    if isinstance(error, ProblemError):
        return error
    problems = app.get(problems_key, {})
    for kind in type(error).__mro__:
        if (to_problem := problems.get(kind)) is not None:
            return to_problem(error)
    return None


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> web.Response:
    """Build a problem+json response; `title` is the status phrase, as `about:blank` asks."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extensions)
    response = web.Response(
        body=orjson.dumps(body),
        status=status,
        content_type=PROBLEM_JSON,
        headers=headers,
    )
    response.charset = None
    return response


def field_errors(error: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as `{field, message, type}` without echoing the input back."""
    return [
        {
            "field": ".".join(str(part) for part in item["loc"]) or None,
            "message": item["msg"],
            "type": item["type"],
        }
        for item in error.errors(include_url=False, include_input=False)
    ]


async def read_json(request: web.Request, model: type[M]) -> M:
    """Read and validate a JSON body: 415 for another media type, 400 malformed, 422 invalid."""
    if request.content_type != "application/json":
        raise ProblemError(415, "The request body must be application/json.")
    raw = await request.read()
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = field_errors(exc)
        if any(item["type"] == "json_invalid" for item in errors):
            raise ProblemError(400, "The request body is not valid JSON.") from None
        raise ProblemError(
            422, "The request body is not valid.", errors=errors
        ) from None


def read_query(request: web.Request, model: type[M]) -> M:
    """Validate query parameters against `model`; 422 with field errors when they do not fit."""
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise ProblemError(
            422, "The query parameters are not valid.", errors=field_errors(exc)
        ) from None
