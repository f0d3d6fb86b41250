"""The HTTP face of hcc-kg: JSON API (per ../shared/docs/api-contract.md), SPARQL endpoint and web pages."""
