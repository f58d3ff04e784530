"""The HTTP adapter: aiohttp routes that turn requests into commands and queries.

Its modules depend one way, from the bottom up:

- what every other module builds on: ``routing`` (the handler type, a route's record),
  ``keys`` (the shared objects), ``responses``, ``problems``;
- what a request is read with: ``parameters``, ``requests``, ``consistency``, ``auth``,
  ``ratelimit``, ``metrics``, and ``past`` (a state as it was);
- the handlers, one module per area: ``writes``, ``batch``, ``ingest``, ``reads``, ``diffs``,
  ``dora``, ``exports``, ``audit``, ``webhooks``, ``feed``, ``dashboard``;
- the route table ``routes`` and the OpenAPI document ``openapi``;
- the application factory ``server``.
"""
