"""The HTTP-facing core, framework-independent: the contract's errors, API-key
auth and rate limit, admission, the services' lifespan, readiness and the SSE
body, the middleware stack. Each framework layer (``api/``) adapts it."""
