"""The API's shapes: every request body, query string and response, declared once (pydantic).
Handlers validate with them, the OpenAPI document describes them, and the renderers take their
field lists from them."""
