"""HTTP handlers for items: parse the request, call the service, shape the answer."""

from typing import Final

from aiohttp import web

from ..db import sessionmaker_key
from ..problems import ProblemError, read_json, read_query
from ..routing import Endpoint
from ..schemas import ItemIn, ItemOut, ItemPage, ItemPatch, Page
from . import service

PREFIX: Final = "/api/v1/items"
_MAX_ID: Final = 2**63 - 1


def _json(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=body, status=status, content_type="application/json", headers=headers)


def _item_response(item: object, status: int = 200, **headers: str) -> web.Response:
    out = ItemOut.model_validate(item)
    return _json(out.model_dump_json().encode(), status, {"ETag": f'"{out.version}"', **headers})


def _item_id(request: web.Request) -> int:
    item_id = int(request.match_info["item_id"])
    if item_id > _MAX_ID:
        raise ProblemError(404, f"Item {item_id} does not exist.")
    return item_id


def _expected_version(request: web.Request) -> int | None:
    """The version named by If-Match, None when any version will do."""
    tags = request.if_match
    if not tags or any(tag.value == "*" for tag in tags):
        return None
    for tag in tags:
        if tag.value.isdigit():
            return int(tag.value)
    raise ProblemError(412, "If-Match names no version of this item.")


async def create(request: web.Request) -> web.Response:
    """POST: create an item, answer 201 with its Location."""
    data = await read_json(request, ItemIn)
    async with request.app[sessionmaker_key]() as session:
        item = await service.create_item(session, data.model_dump())
    return _item_response(item, 201, Location=f"{PREFIX}/{item.id}")


async def list_(request: web.Request) -> web.Response:
    """GET: one page of items."""
    page = read_query(request, Page)
    async with request.app[sessionmaker_key]() as session:
        items, total = await service.list_items(session, page.limit, page.offset)
    body = ItemPage(
        items=[ItemOut.model_validate(item) for item in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
    return _json(body.model_dump_json().encode())


async def get(request: web.Request) -> web.Response:
    """GET by id."""
    async with request.app[sessionmaker_key]() as session:
        item = await service.get_item(session, _item_id(request))
    return _item_response(item)


async def replace(request: web.Request) -> web.Response:
    """PUT: set every field."""
    item_id, expected = _item_id(request), _expected_version(request)
    data = await read_json(request, ItemIn)
    async with request.app[sessionmaker_key]() as session:
        item = await service.update_item(session, item_id, data.model_dump(), expected)
    return _item_response(item)


async def patch(request: web.Request) -> web.Response:
    """PATCH: set only the given fields."""
    item_id, expected = _item_id(request), _expected_version(request)
    data = await read_json(request, ItemPatch)
    async with request.app[sessionmaker_key]() as session:
        item = await service.update_item(
            session, item_id, data.model_dump(exclude_unset=True), expected
        )
    return _item_response(item)


async def delete(request: web.Request) -> web.Response:
    """DELETE by id: 204."""
    item_id, expected = _item_id(request), _expected_version(request)
    async with request.app[sessionmaker_key]() as session:
        await service.delete_item(session, item_id, expected)
    return web.Response(status=204)


_BY_ID = PREFIX + r"/{item_id:\d+}"
ENDPOINTS = (
    Endpoint(method="POST", path=PREFIX, handler=create, summary="Create an item", tag="items",
             body=ItemIn, status=201, response=ItemOut, errors=(400, 409, 413, 415, 422),
             headers=("Location", "ETag")),
    Endpoint(method="GET", path=PREFIX, handler=list_, summary="List items", tag="items",
             query=Page, response=ItemPage, errors=(422,)),
    Endpoint(method="GET", path=_BY_ID, handler=get, summary="Read an item", tag="items",
             response=ItemOut, errors=(404,), headers=("ETag",)),
    Endpoint(method="PUT", path=_BY_ID, handler=replace, summary="Replace an item", tag="items",
             body=ItemIn, response=ItemOut, errors=(400, 404, 409, 412, 413, 415, 422),
             headers=("ETag",)),
    Endpoint(method="PATCH", path=_BY_ID, handler=patch, summary="Change some fields of an item",
             tag="items", body=ItemPatch, response=ItemOut,
             errors=(400, 404, 409, 412, 413, 415, 422), headers=("ETag",)),
    Endpoint(method="DELETE", path=_BY_ID, handler=delete, summary="Delete an item", tag="items",
             status=204, errors=(404, 412)),
)  # fmt: skip
