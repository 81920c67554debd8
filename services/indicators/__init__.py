"""Indicator library (指标库, 模板库, 案例库): the Ministry's framework, shared and extended indicators."""
