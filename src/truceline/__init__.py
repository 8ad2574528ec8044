"""truceline: ceasefire monitoring and verification with drones, ground sensors and satellites.

The public API, by pipeline stage (see ``docs/`` and the README for the data flow):

* types: :class:`Sensor`, :class:`Observation`, :class:`Event`, :class:`Finding`,
  :class:`Coverage`, locations and :class:`LocalFrame`;
* agreement: :func:`load_agreement`, :func:`check_agreement`, :func:`adjudicate`;
* evidence: :class:`EvidenceLog`, :func:`verify_log`;
* store and workspace: :class:`SQLiteStore`, :class:`Workspace`;
* ingest: :func:`ingest_file`;
* fusion: :func:`fuse`, :class:`FusionConfig`;
* runs and reports: :func:`execute_run`, :func:`write_report`;
* simulation and scoring: :func:`simulate_scenario`, :func:`score_findings`.
"""

from truceline._version import __version__
from truceline.agreement import Agreement, adjudicate, check_agreement, load_agreement
from truceline.evaluation import score_findings
from truceline.evidence import EvidenceLog, verify_log
from truceline.fusion import FusionConfig, fuse
from truceline.ingest.pipeline import ingest_file
from truceline.model import (
    BearingLocation,
    Coverage,
    Event,
    Finding,
    FootprintLocation,
    LocalFrame,
    Observation,
    PointLocation,
    RecordError,
    Sensor,
    TrucelineError,
)
from truceline.reports import write_report
from truceline.runs import execute_run
from truceline.simulate import simulate_scenario
from truceline.store import SQLiteStore
from truceline.workspace import Workspace

__all__ = [
    "Agreement",
    "BearingLocation",
    "Coverage",
    "Event",
    "EvidenceLog",
    "Finding",
    "FootprintLocation",
    "FusionConfig",
    "LocalFrame",
    "Observation",
    "PointLocation",
    "RecordError",
    "SQLiteStore",
    "Sensor",
    "TrucelineError",
    "Workspace",
    "__version__",
    "adjudicate",
    "check_agreement",
    "execute_run",
    "fuse",
    "ingest_file",
    "load_agreement",
    "score_findings",
    "simulate_scenario",
    "verify_log",
    "write_report",
]
