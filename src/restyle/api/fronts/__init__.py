"""Vendor fronts: one package per cloud protocol, each translating its wire format to and from the
one task path (``restyle.tasks.service``) and mapping restyle error codes in its own table."""
