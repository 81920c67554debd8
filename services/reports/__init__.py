"""Pilot reports (试点报告) and the province's acceptance (验收), the 规范管理蓝本 and the 专报."""
