"""Pilot programs (试点) run by the province, and the tenants that take part in them."""
