"""How an HTTP service is built: the app factory, middleware, errors, OpenAPI, paging, start-up and stop."""
