"""Pilot projects (试点项目) of a tenant and their lifecycle stages (全流程)."""
