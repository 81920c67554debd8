"""Monitoring (跟踪监控, "双监控"): rounds, warnings, year-end forecast and corrections."""
