"""The items component: its repository, built at start from a store and the layers of others.

The store keeps the items (the database, or memory). Components that act on item changes (a
cache, a stream of changes, a job queue) wrap the repository in a layer of their own with
`add_layer`, so this module names none of them. The routes and the meaning of the
repository's errors in HTTP come from views.py.
"""

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from ..problems import register_problems
from ..routing import add_endpoints
from .finished import FinishedWrites
from .repository import ItemRepository, items_key
from .views import ENDPOINTS, PROBLEMS

# Makes the repository that keeps the items, from the app's resources once they are open.
Store = Callable[[web.Application], ItemRepository]
# Wraps the repository to act on what passes through it.
Layer = Callable[[web.Application, ItemRepository], ItemRepository]
layers_key = web.AppKey("item_layers", list[Layer])


def add_layer(app: web.Application, layer: Layer) -> None:
    """Wrap the items repository in `layer`; the layers added first are nearest the store."""
    app.setdefault(layers_key, []).append(layer)


def setup_items(app: web.Application, store: Store) -> None:
    """Serve /api/v1/items from `store`, wrapped in the layers that other components add."""

    async def items_context(app: web.Application) -> AsyncIterator[None]:
        repository = store(app)
        for layer in app.get(layers_key, ()):
            repository = layer(app, repository)
        app[items_key] = writes = FinishedWrites(repository)
        yield
        await writes.wait()

    app.cleanup_ctx.append(items_context)
    register_problems(app, PROBLEMS)
    add_endpoints(app, ENDPOINTS)
