"""Computalot server: controller, broker contract, agent and sealed recipes."""

from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="computalot-server",
    version="0.1.0",
    description="Distributed compute platform: REST controller, Dramatiq broker contract, worker-pull agents",
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.11",
    packages=find_packages(include=["controller*", "broker*", "agent*", "recipes*", "embedded*"]),
    package_data={
        "controller": ["docs/*.md", "docs/*.html"],
        "recipes": ["prop_amm/rust/*.rs", "prop_amm/README.md", "echidna/OPERATOR.md"],
    },
    install_requires=[
        "dramatiq[rabbitmq,redis]>=2.0,<3",
        "pyzmq>=26",
        "aiohttp>=3.10,<4",
        "peewee>=3.17,<5",
        "psycopg2-binary>=2.9",
        "msgpack>=1.0",
        "numpy>=1.26",
        "numba>=0.60",
        "jsonschema>=4.20",
        "click>=8.1",
        "httpx>=0.27",
        "eth-account>=0.13",
        "prometheus-client>=0.20",
        "lightgbm>=4.0",
        "pandas>=2.0",
        "pyarrow>=14",
    ],
    extras_require={
        "test": [
            "pytest>=8",
            "pytest-aiohttp>=1.0",
            "pytest-timeout>=2.3",
            "hypothesis>=6.100",
            "schemathesis>=4,<5",
            "ruff>=0.6",
            "mypy>=1.11",
        ],
    },
    entry_points={
        "console_scripts": [
            "computalot-controller=controller.cli:main",
            "computalot-agent=agent.cli:main",
            "computalot-admin=controller.admin.cli:main",
            "computalot-server=embedded.server:main",
        ],
    },
)
