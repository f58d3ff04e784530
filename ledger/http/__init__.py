"""The HTTP adapter: aiohttp routes that turn requests into commands and queries."""
