"""The example resource, /api/v1/items: routes, handlers and the queries behind them."""
