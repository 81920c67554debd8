"""Packaging glue: the three code folders (and migrations) install under one import root.

`platform` is a standard-library module, so the folders are mapped to `jixiao.platform`,
`jixiao.tenants`, `jixiao.services` and `jixiao.migrations` (DESIGN.md §2). setuptools cannot
prefix discovered packages from pyproject.toml alone, hence this file; everything else lives in
pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

ROOTS = ("platform", "tenants", "services", "migrations")

packages = [
    f"jixiao.{name}"
    for name in find_namespace_packages(include=[f"{root}*" for root in ROOTS], exclude=["*__pycache__*"])
]

setup(packages=packages, package_dir={f"jixiao.{root}": root for root in ROOTS})
