"""pageturn: a self-hosted document viewing server speaking the PrizmDoc and Zoho Writer APIs."""

__version__ = "0.1.0"
