"""ARM protocol conventions shared by the server and the providers: request/response, routing,
api-version checking and long-running-operation headers and status endpoints."""
