"""The adapter conformance suite: one inherited test class for every ingest format.

A concrete test class sets :attr:`AdapterConformance.adapter` and
:attr:`AdapterConformance.own_samples`, and implements :meth:`good_content`,
:meth:`check_records` and :meth:`bad_cases`. It then gets, for free: the probe
accepts its files and rejects every other format's; the registry detects it;
reading yields the expected records; every bad case raises a
:class:`~truceline.model.RecordError` naming the file, record and field; reading
twice (or a copy under another name) gives identical ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ingest.ingest_samples import SAMPLES, write_sample
from truceline.ingest.base import PROBE_BYTES, IngestAdapter, Record
from truceline.ingest.registry import detect
from truceline.model import Coverage, Observation, RecordError, Sensor


@dataclass(frozen=True)
class BadCase:
    """A bad file and where its error must point.

    Attributes
    ----------
    id
        Test id.
    content
        The file's bytes.
    record
        Expected ``RecordError.record`` (1-based line, ``"features[i]"``, or ``None``).
    field
        Expected ``RecordError.field``.
    """

    id: str
    content: bytes
    record: int | str | None
    field: str | None


def record_id(record: Record) -> str:
    """The content id of any record type."""
    if isinstance(record, Sensor):
        return record.content_id
    return record.id


def read_all(adapter: type[IngestAdapter], path: Path) -> list[Record]:
    """All records of ``path``."""
    return list(adapter().read(path))


def head_of(path: Path) -> bytes:
    """What the registry shows a probe."""
    with path.open("rb") as handle:
        return handle.read(PROBE_BYTES)


class AdapterConformance:
    """Inherit, set the class attributes, implement the three hooks."""

    adapter: ClassVar[type[IngestAdapter]]
    #: File suffix of the good file and the bad cases.
    suffix: ClassVar[str] = ".csv"
    #: Names in ``ingest_samples.SAMPLES`` this adapter must accept (all others: reject).
    own_samples: ClassVar[tuple[str, ...]]

    def good_content(self) -> bytes:
        """Bytes of a good file."""
        raise NotImplementedError

    def check_records(self, records: list[Record]) -> None:
        """Assert that ``records`` are what :meth:`good_content` describes."""
        raise NotImplementedError

    def bad_cases(self) -> list[BadCase]:
        """Bad files with the record and field their errors must name."""
        raise NotImplementedError

    def pytest_generate_tests(self, metafunc: Any) -> None:
        if "bad_case" in metafunc.fixturenames:
            cases = self.bad_cases()
            metafunc.parametrize("bad_case", cases, ids=[case.id for case in cases])
        if "sample_name" in metafunc.fixturenames:
            metafunc.parametrize("sample_name", sorted(SAMPLES))

    @pytest.fixture
    def good_file(self, tmp_path: Path) -> Path:
        path = tmp_path / f"good{self.suffix}"
        path.write_bytes(self.good_content())
        return path

    def test_probe_accepts_good_file(self, good_file: Path) -> None:
        assert self.adapter.can_read(good_file, head_of(good_file))

    def test_probe_on_every_format(self, sample_name: str, tmp_path: Path) -> None:
        path = write_sample(tmp_path, sample_name)
        expected = sample_name in self.own_samples
        assert self.adapter.can_read(path, head_of(path)) is expected

    def test_own_samples_read_cleanly(self, tmp_path: Path) -> None:
        for name in self.own_samples:
            records = read_all(self.adapter, write_sample(tmp_path, name))
            assert any(isinstance(r, Observation) for r in records), name

    def test_registry_detects_this_adapter(self, good_file: Path) -> None:
        assert detect(good_file) is self.adapter

    def test_read_yields_expected_records(self, good_file: Path) -> None:
        self.check_records(read_all(self.adapter, good_file))

    def test_records_are_well_formed(self, good_file: Path) -> None:
        for record in read_all(self.adapter, good_file):
            assert isinstance(record, Observation | Sensor | Coverage)
            if isinstance(record, Observation):
                assert record.raw_sha256 is not None
                assert len(record.raw_sha256) == 64
                assert Observation.from_dict(record.to_dict()) == record

    def test_reading_twice_gives_identical_ids(self, good_file: Path, tmp_path: Path) -> None:
        first = [record_id(r) for r in read_all(self.adapter, good_file)]
        second = [record_id(r) for r in read_all(self.adapter, good_file)]
        copy = tmp_path / f"renamed-copy{self.suffix}"
        copy.write_bytes(good_file.read_bytes())
        third = [record_id(r) for r in read_all(self.adapter, copy)]
        assert first == second == third
        observations = [r for r in read_all(self.adapter, good_file) if isinstance(r, Observation)]
        assert len({o.raw_sha256 for o in observations}) == len(observations)

    def test_bad_case_names_file_record_and_field(self, bad_case: BadCase, tmp_path: Path) -> None:
        path = tmp_path / f"bad{self.suffix}"
        path.write_bytes(bad_case.content)
        with pytest.raises(RecordError) as info:
            read_all(self.adapter, path)
        error = info.value
        assert error.file == str(path), str(error)
        assert (error.record, error.field) == (bad_case.record, bad_case.field), str(error)
        assert str(path) in str(error)

    def test_empty_file_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / f"empty{self.suffix}"
        path.write_bytes(b"")
        with pytest.raises(RecordError) as info:
            read_all(self.adapter, path)
        assert info.value.file == str(path)
