"""The example resource: every CRUD path, pagination, conflicts and preconditions."""

import asyncio

import pytest

from .helpers import Client, assert_problem, create_item

ITEMS = "/api/v1/items"


async def test_create_answers_201_with_location_and_etag(client: Client) -> None:
    response = await client.post(
        ITEMS, json={"name": "lamp", "description": "A desk lamp"}
    )
    assert response.status == 201
    body = await response.json()
    assert body["name"] == "lamp"
    assert body["description"] == "A desk lamp"
    assert body["version"] == 1
    assert response.headers["Location"] == f"{ITEMS}/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    assert body["created_at"].endswith("Z")


async def test_created_item_can_be_read_back(client: Client) -> None:
    created = await create_item(client, "chair")
    response = await client.get(f"{ITEMS}/{created['id']}")
    assert response.status == 200
    assert await response.json() == created


async def test_list_pages_through_items_in_id_order(client: Client) -> None:
    names = [f"item-{n}" for n in range(5)]
    for name in names:
        await create_item(client, name)

    first = await (await client.get(ITEMS, params={"limit": 2})).json()
    second = await (await client.get(ITEMS, params={"limit": 2, "offset": 2})).json()
    last = await (await client.get(ITEMS, params={"limit": 2, "offset": 4})).json()

    assert [item["name"] for item in first["items"]] == names[:2]
    assert [item["name"] for item in second["items"]] == names[2:4]
    assert [item["name"] for item in last["items"]] == names[4:]
    assert first["total"] == second["total"] == 5
    assert (first["limit"], second["offset"]) == (2, 2)


async def test_list_of_nothing_is_empty(client: Client) -> None:
    response = await client.get(ITEMS)
    assert response.status == 200
    assert await response.json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_list_refuses_bad_query_parameters(
    client: Client, params: dict[str, str], field: str
) -> None:
    body = await assert_problem(await client.get(ITEMS, params=params), 422)
    assert [error["field"] for error in body["errors"]] == [field]


async def test_put_replaces_every_field_and_bumps_the_version(client: Client) -> None:
    created = await create_item(client, "desk", "oak")
    response = await client.put(f"{ITEMS}/{created['id']}", json={"name": "table"})
    assert response.status == 200
    body = await response.json()
    assert (body["name"], body["description"], body["version"]) == ("table", None, 2)
    assert response.headers["ETag"] == '"2"'
    assert body["updated_at"] >= created["updated_at"]


async def test_patch_changes_only_the_given_fields(client: Client) -> None:
    created = await create_item(client, "shelf", "pine")
    response = await client.patch(
        f"{ITEMS}/{created['id']}", json={"description": "birch"}
    )
    assert response.status == 200
    body = await response.json()
    assert (body["name"], body["description"], body["version"]) == ("shelf", "birch", 2)


@pytest.mark.parametrize(
    "patch",
    [{}, {"name": None}, {"name": ""}, {"name": " \t "}, {"name": "a\0b"}, {"size": 3}],
)
async def test_patch_refuses_empty_or_invalid_changes(
    client: Client, patch: dict[str, object]
) -> None:
    created = await create_item(client, "stool")
    await assert_problem(
        await client.patch(f"{ITEMS}/{created['id']}", json=patch), 422
    )


async def test_delete_answers_204_then_the_item_is_gone(client: Client) -> None:
    created = await create_item(client, "vase")
    response = await client.delete(f"{ITEMS}/{created['id']}")
    assert response.status == 204
    assert await response.read() == b""
    await assert_problem(await client.get(f"{ITEMS}/{created['id']}"), 404)


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
async def test_missing_item_is_404_for_every_method(
    client: Client, method: str
) -> None:
    response = await client.request(method, f"{ITEMS}/999999", json={"name": "x"})
    body = await assert_problem(response, 404)
    assert body["detail"] == "Item 999999 does not exist."


@pytest.mark.parametrize("item_id", ["abc", "-1", "1.5", str(2**31), str(2**64)])
async def test_ids_that_cannot_exist_are_404(client: Client, item_id: str) -> None:
    await assert_problem(await client.get(f"{ITEMS}/{item_id}"), 404)


async def test_duplicate_name_is_409_on_create_and_update(client: Client) -> None:
    await create_item(client, "clock")
    other = await create_item(client, "watch")
    await assert_problem(await client.post(ITEMS, json={"name": "clock"}), 409)
    await assert_problem(
        await client.put(f"{ITEMS}/{other['id']}", json={"name": "clock"}), 409
    )
    still = await (await client.get(f"{ITEMS}/{other['id']}")).json()
    assert still["name"] == "watch"


async def test_if_match_with_the_current_version_applies(client: Client) -> None:
    created = await create_item(client, "rug")
    response = await client.patch(
        f"{ITEMS}/{created['id']}", json={"name": "carpet"}, headers={"If-Match": '"1"'}
    )
    assert response.status == 200
    assert response.headers["ETag"] == '"2"'


async def test_if_match_with_a_stale_version_is_412_and_changes_nothing(
    client: Client,
) -> None:
    created = await create_item(client, "mirror")
    url = f"{ITEMS}/{created['id']}"
    await client.patch(url, json={"description": "round"})

    stale = await client.put(url, json={"name": "glass"}, headers={"If-Match": '"1"'})
    await assert_problem(stale, 412)
    assert stale.headers["ETag"] == '"2"'
    await assert_problem(await client.delete(url, headers={"If-Match": '"1"'}), 412)
    current = await (await client.get(url)).json()
    assert (current["name"], current["version"]) == ("mirror", 2)


async def test_concurrent_patches_with_if_match_let_exactly_one_win(
    client: Client,
) -> None:
    created = await create_item(client, "lamp")
    url = f"{ITEMS}/{created['id']}"
    responses = await asyncio.gather(
        *(
            client.patch(
                url, json={"description": f"writer {n}"}, headers={"If-Match": '"1"'}
            )
            for n in range(5)
        )
    )
    assert sorted(response.status for response in responses) == [
        200,
        412,
        412,
        412,
        412,
    ]
    final = await (await client.get(url)).json()
    assert final["version"] == 2


async def test_a_bad_body_is_reported_before_a_stale_if_match(client: Client) -> None:
    created = await create_item(client, "order")
    url = f"{ITEMS}/{created['id']}"
    response = await client.put(
        url, json={"description": "no name"}, headers={"If-Match": '"9"'}
    )
    await assert_problem(response, 422)
