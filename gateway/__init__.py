"""Spyne gateway: the trust layer between analysts and a data warehouse."""
