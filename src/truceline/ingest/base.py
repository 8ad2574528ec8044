"""The ingest adapter interface.

An adapter turns one file of a field format into normalised records. It has a
cheap probe, :meth:`IngestAdapter.can_read`, that looks only at the file name and
its first bytes (as ObsPy's ``_is_sac`` or xarray's ``guess_can_open`` do), and a
reader, :meth:`IngestAdapter.read`, that yields records in file order.

Readers must raise :class:`truceline.model.RecordError` naming the file, the
record (1-based line number, or feature index) and the field for any bad
record; the ingest pipeline then refuses the whole file, so nothing is half
written.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from truceline.model.coverage import Coverage
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor

__all__ = ["PROBE_BYTES", "IngestAdapter", "IngestContext", "Record"]

#: How many leading bytes of a file the probe sees.
PROBE_BYTES = 4096

#: What a reader yields: sensor descriptions, observations and coverage records.
Record = Observation | Sensor | Coverage


@dataclass(frozen=True)
class IngestContext:
    """What the workspace already knows, offered to adapters that need it.

    A miniSEED file names its station but not where it is; the position comes
    from station metadata ingested before (StationXML, station CSV).

    Attributes
    ----------
    sensors
        Known sensors by id.
    """

    sensors: Mapping[str, Sensor] = field(default_factory=dict)

    def station(self, network: str, station: str, location: str = "") -> Sensor | None:
        """The known sensor of a seismological station code, whatever its modality prefix.

        Station metadata ids look like ``<modality>:NET.STA`` or ``<modality>:NET.STA.LOC``.
        """
        code = f"{network}.{station}" if network else station
        wanted = {f"{code}.{location}"} if location else {code}
        matches = sorted(
            sensor_id for sensor_id in self.sensors if sensor_id.split(":", 1)[-1] in wanted
        )
        return self.sensors[matches[0]] if matches else None


class IngestAdapter(ABC):
    """A reader for one field format.

    Subclasses set :attr:`name` (short, used on the command line and in the log)
    and :attr:`description` (one line shown when listing formats).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    #: Set by the ingest pipeline before :meth:`read`; ``None`` when reading stand-alone.
    context: IngestContext | None = None

    @classmethod
    @abstractmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        """Return whether this adapter reads the file, looking only at cheap clues.

        Parameters
        ----------
        path
            The file (its name and suffix may be used; do not read it again).
        head
            Up to :data:`PROBE_BYTES` leading bytes of the file.
        """

    @abstractmethod
    def read(self, path: Path) -> Iterator[Record]:
        """Yield the file's records in order.

        Raises
        ------
        truceline.model.RecordError
            For a bad record, naming file, record and field.
        """
