"""release-ledger: an event-sourced record of every change to every app in every environment."""

__version__ = "0.1.0"
