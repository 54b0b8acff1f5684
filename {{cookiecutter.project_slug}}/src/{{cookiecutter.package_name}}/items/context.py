"""The items repository of the app: built once at start from the resources the app has."""

from collections.abc import AsyncIterator

from aiohttp import web

{% if cookiecutter.use_redis %}from ..cache import redis_key
{% endif %}{% if cookiecutter.database != "none" %}from ..db import database_key
{% endif %}{% if cookiecutter.use_websocket %}from ..feed import feed_key
{% endif %}from ..problems import register_problems
{% if cookiecutter.use_redis %}from ..settings import settings_key
from .cached import CachedItemRepository
{% endif %}{% if cookiecutter.use_websocket %}from .events import PublishingItemRepository
{% endif %}{% if cookiecutter.database == "none" %}from .memory import MemoryItemRepository
{% endif %}from .repository import ItemRepository, items_key
{% if cookiecutter.database != "none" %}from .sql import SqlItemRepository
{% endif %}from .views import PROBLEMS


async def items_context(app: web.Application) -> AsyncIterator[None]:
    """Store the repository under `items_key`; it needs no cleanup of its own."""
{%- if cookiecutter.database == "none" %}
    repository: ItemRepository = MemoryItemRepository()
{%- else %}
    repository: ItemRepository = SqlItemRepository(app[database_key])
{%- endif %}
{%- if cookiecutter.use_redis %}
    settings = app[settings_key]
    repository = CachedItemRepository(
        repository, app[redis_key], settings.cache_ttl, settings.cache_prefix
    )
{%- endif %}
{%- if cookiecutter.use_websocket %}
    repository = PublishingItemRepository(repository, app[feed_key])
{%- endif %}
    app[items_key] = repository
    register_problems(app, PROBLEMS)
    yield
