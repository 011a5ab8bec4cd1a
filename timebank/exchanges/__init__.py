"""Exchanges: where a market post becomes an hour credit, and hours given directly."""
