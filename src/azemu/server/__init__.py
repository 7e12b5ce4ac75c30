"""The HTTPS server: ASGI app, middleware order, identity endpoints, LRO status endpoints, admin API."""
