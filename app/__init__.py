"""Comptoir: a customer-management and invoicing application generated from YAML."""

__version__ = "0.1.0"
