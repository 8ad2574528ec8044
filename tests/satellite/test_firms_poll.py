"""Resumable FIRMS polling into files (and a home), and ``truceline satellite poll``."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from satellite.firms_server import KEY, VIIRS_COLUMNS, FirmsServer, Reply
from truceline.cli import app
from truceline.ingest.firms import FirmsAdapter
from truceline.ingest.pipeline import ingest_file
from truceline.ingest.registry import detect
from truceline.model.errors import RecordError
from truceline.model.location import PointLocation
from truceline.model.observation import Observation
from truceline.satellite import poll as poll_module
from truceline.satellite.firms_api import Area, Country, FirmsClient
from truceline.satellite.poll import (
    STATE_FILE,
    PollConfigError,
    PollError,
    load_state,
    page_path,
    poll,
)
from truceline.workspace import Workspace

AREA = Area(30.0, 44.5, 40.0, 52.0)
SEGMENT = AREA.text
V20 = "VIIRS_NOAA20_NRT"


def day(n: int, month: int = 8) -> date:
    return date(2025, month, n)


def on(today: date) -> Callable[[], date]:
    return lambda: today


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file of a poll directory (the lock file aside) with its bytes."""
    return {
        path.name: path.read_bytes()
        for path in sorted(directory.iterdir())
        if path.name != ".firms-poll.lock"
    }


def csv_names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.glob("*.csv"))


def data_rows(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines()[1:] if line]


# -- pages, files, state --------------------------------------------------------------------
def test_poll_writes_one_file_per_page_exactly_as_served(
    firms_server: FirmsServer, firms_client: FirmsClient, tmp_path: Path
) -> None:
    result = poll(firms_client, out_dir=tmp_path, region=AREA, start=day(1), today=on(day(27)))
    assert [(s.first, s.days) for s in firms_server.data_requests] == [
        (day(1), 10),
        (day(11), 10),
        (day(21), 7),
    ]
    assert csv_names(tmp_path) == [
        f"VIIRS_NOAA20_NRT_30_44.5_40_52_2025-08-{a}_2025-08-{b}.csv"
        for a, b in (("01", "10"), ("11", "20"), ("21", "27"))
    ]
    for page in result.pages:
        served = firms_server.csv(
            "area", V20, SEGMENT, page.first, (page.last - page.first).days + 1
        )
        assert page.path.read_bytes() == served
        assert page.rows == len(data_rows(page.path))
    # days within the 2-day overlap (26th, 27th) are not final yet
    assert [page.final for page in result.pages] == [True, True, False]
    [stream] = load_state(tmp_path / STATE_FILE).values()
    assert (stream.origin, stream.day_range) == (day(1), 10)
    assert (stream.complete_through, stream.fetched_through) == (day(25), day(27))
    assert result.streams == (stream,)
    assert not list(tmp_path.glob(".*.tmp"))


def test_polled_files_ingest_with_the_firms_adapter(
    firms_server: FirmsServer, firms_client: FirmsClient, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    poll(
        firms_client,
        out_dir=out,
        region=AREA,
        sources=[V20, "MODIS_NRT"],
        start=day(1),
        end=day(3),
        today=on(day(27)),
    )
    poll(
        firms_client,
        out_dir=out,
        region=Country("UKR"),
        sources=["VIIRS_SNPP_NRT"],
        start=day(1),
        end=day(3),
        today=on(day(27)),
    )
    files = sorted(out.glob("*.csv"))
    assert len(files) == 3
    sensors: set[str] = set()
    for path in files:
        assert detect(path) is FirmsAdapter
        observations = [r for r in FirmsAdapter().read(path) if isinstance(r, Observation)]
        assert len(observations) == 9
        assert all(o.attributes["shape"] == "api" for o in observations)
        box = (22.1, 44.4, 40.2, 52.4) if "_UKR_" in path.name else (30.0, 44.5, 40.0, 52.0)
        for o in observations:
            assert isinstance(o.location, PointLocation)
            assert box[0] <= o.location.lon <= box[2] and box[1] <= o.location.lat <= box[3]
        sensors |= {o.sensor_id for o in observations}
    assert {"firms:VIIRS:NOAA-20", "firms:VIIRS:Suomi-NPP"} < sensors
    assert sensors - {"firms:VIIRS:NOAA-20", "firms:VIIRS:Suomi-NPP"} <= {
        "firms:MODIS:Aqua",
        "firms:MODIS:Terra",
    }


def test_a_day_without_detections_gives_a_header_only_file(
    firms_server: FirmsServer, firms_client: FirmsClient, tmp_path: Path
) -> None:
    firms_server.set_rows_per_day(0)
    result = poll(
        firms_client, out_dir=tmp_path, region=AREA, start=day(1), end=day(2), today=on(day(27))
    )
    [page] = result.pages
    assert page.rows == 0
    assert page.path.read_text() == VIIRS_COLUMNS + "\n"
    with Workspace(tmp_path / "home") as workspace:
        assert ingest_file(workspace, page.path).records == 0


def test_default_start_is_the_last_day_range(
    firms_server: FirmsServer, firms_client: FirmsClient, tmp_path: Path
) -> None:
    result = poll(firms_client, out_dir=tmp_path, region=AREA, day_range=5, today=on(day(27)))
    assert [(p.first, p.last) for p in result.pages] == [(day(23), day(27))]
    assert result.streams[0].origin == day(23)


# -- overlap and revisions ------------------------------------------------------------------
def test_next_poll_refetches_the_overlap_and_replaces_the_page_file(
    firms_server: FirmsServer, firms_client: FirmsClient, tmp_path: Path
) -> None:
    poll(firms_client, out_dir=tmp_path, region=AREA, start=day(1), today=on(day(27)))
    old = page_path(tmp_path, V20, AREA, day(21), day(27))
    before = data_rows(old)
    firms_server.revise(V20, SEGMENT, day(26))  # FIRMS completes the 26th
    count = len(firms_server.data_requests)

    result = poll(firms_client, out_dir=tmp_path, region=AREA, today=on(day(28)))

    [page] = result.pages
    assert [(s.first, s.days) for s in firms_server.data_requests[count:]] == [(day(21), 8)]
    new = page_path(tmp_path, V20, AREA, day(21), day(28))
    assert page.path == new and page.replaced == (old,)
    assert not old.exists()
    rows = data_rows(new)
    assert set(before) < set(rows)
    added = set(rows) - set(before)
    assert len([r for r in added if ",2025-08-26," in r]) == 1  # the revision
    assert len([r for r in added if ",2025-08-28," in r]) == 3  # the new day
    # one file per page, none overlapping
    assert csv_names(tmp_path) == [
        f"VIIRS_NOAA20_NRT_30_44.5_40_52_2025-08-{a}_2025-08-{b}.csv"
        for a, b in (("01", "10"), ("11", "20"), ("21", "28"))
    ]
    assert result.streams[0].complete_through == day(26)


def test_polling_twice_the_same_day_rewrites_the_open_page(
    firms_server: FirmsServer, firms_client: FirmsClient, tmp_path: Path
) -> None:
    poll(firms_client, out_dir=tmp_path, region=AREA, start=day(1), today=on(day(27)))
    state = (tmp_path / STATE_FILE).read_bytes()
    firms_server.revise(V20, SEGMENT, day(27), added=2)
    result = poll(firms_client, out_dir=tmp_path, region=AREA, today=on(day(27)))
    [page] = result.pages
    assert (page.first, page.last, page.replaced) == (day(21), day(27), ())
    assert page.rows == 7 * 3 + 2
    assert (tmp_path / STATE_FILE).read_bytes() == state


def test_no_overlap_means_no_refetch(
    firms_server: FirmsServer, firms_client: FirmsClient, tmp_path: Path
) -> None:
    poll(
        firms_client,
        out_dir=tmp_path,
        region=AREA,
        start=day(1),
        end=day(20),
        overlap_days=0,
        today=on(day(20)),
    )
    count = len(firms_server.data_requests)
    assert (
        poll(firms_client, out_dir=tmp_path, region=AREA, end=day(20), today=on(day(21))).pages
        == ()
    )
    assert len(firms_server.data_requests) == count


def test_extending_a_past_end_refetches_the_partial_page(
    firms_server: FirmsServer, firms_client: FirmsClient, tmp_path: Path
) -> None:
    poll(firms_client, out_dir=tmp_path, region=AREA, start=day(1), end=day(5), today=on(day(27)))
    assert csv_names(tmp_path) == ["VIIRS_NOAA20_NRT_30_44.5_40_52_2025-08-01_2025-08-05.csv"]
    result = poll(firms_client, out_dir=tmp_path, region=AREA, end=day(12), today=on(day(27)))
    assert [(p.first, p.last) for p in result.pages] == [(day(1), day(10)), (day(11), day(12))]
    assert csv_names(tmp_path) == [
        "VIIRS_NOAA20_NRT_30_44.5_40_52_2025-08-01_2025-08-10.csv",
        "VIIRS_NOAA20_NRT_30_44.5_40_52_2025-08-11_2025-08-12.csv",
    ]


def test_a_stale_version_left_by_a_crash_is_removed(
    firms_client: FirmsClient, tmp_path: Path
) -> None:
    stale = page_path(tmp_path, V20, AREA, day(1), day(4))
    stale.write_text(VIIRS_COLUMNS + "\n")
    other_stream = page_path(tmp_path, "MODIS_NRT", AREA, day(1), day(4))
    other_stream.write_text("kept\n")
    result = poll(
        firms_client, out_dir=tmp_path, region=AREA, start=day(1), end=day(6), today=on(day(27))
    )
    assert result.pages[0].replaced == (stale,)
    assert not stale.exists() and other_stream.exists()


def test_temporaries_of_a_killed_poll_are_removed(
    firms_client: FirmsClient, tmp_path: Path
) -> None:
    name = page_path(tmp_path, V20, AREA, day(1), day(2)).name
    half_page = tmp_path / f".{name}.k3j_x9q2.tmp"
    half_page.write_text(VIIRS_COLUMNS + "\n48.1,37.2,3")
    half_state = tmp_path / f".{STATE_FILE}.abc123.tmp"
    half_state.write_text("{")
    someone_elses = tmp_path / ".notes.abc.tmp"
    someone_elses.write_text("mine")
    poll(firms_client, out_dir=tmp_path, region=AREA, start=day(1), end=day(2), today=on(day(9)))
    assert not half_page.exists() and not half_state.exists()
    assert someone_elses.exists()


# -- failures and resumption ----------------------------------------------------------------
def two_source_poll(client: FirmsClient, out: Path) -> None:
    poll(
        client,
        out_dir=out,
        region=AREA,
        sources=[V20, "MODIS_NRT"],
        start=day(5, 7),
        today=on(day(27)),
    )


def test_a_failed_poll_resumes_to_the_same_files_and_state(
    firms_server: FirmsServer, firms_client: FirmsClient, tmp_path: Path
) -> None:
    two_source_poll(firms_client, tmp_path / "straight")
    expected = snapshot(tmp_path / "straight")
    assert len([name for name in expected if name.endswith(".csv")]) == 12

    broken = tmp_path / "broken"
    for failures_after in (3, 4):
        firms_server.fail_after(failures_after, Reply(400, b"Bad Request"))
        with pytest.raises(PollError, match="resumes with the page starting") as caught:
            two_source_poll(firms_client, broken)
        firms_server.heal()
        assert len(caught.value.pages) == failures_after
        assert "HTTP 400" in str(caught.value.cause)
        # the state on disk matches the pages on disk
        for stream in load_state(broken / STATE_FILE).values():
            assert stream.fetched_through is not None
            first = stream.page_start(stream.fetched_through)
            assert page_path(broken, stream.source, AREA, first, stream.fetched_through).exists()
    assert len(list(broken.glob("*.csv"))) == 7
    two_source_poll(firms_client, broken)
    assert snapshot(broken) == expected


def test_a_crash_before_the_state_is_written_resumes_cleanly(
    firms_client: FirmsClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_source_poll(firms_client, tmp_path / "straight")
    expected = snapshot(tmp_path / "straight")

    calls = {"n": 0}
    real_save = poll_module.save_state

    class CrashError(Exception):
        pass

    def crashing_save(path: Path, streams: dict[str, poll_module.StreamState]) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise CrashError("power cut")
        real_save(path, streams)

    monkeypatch.setattr(poll_module, "save_state", crashing_save)
    with pytest.raises(CrashError):
        two_source_poll(firms_client, tmp_path / "crashed")
    monkeypatch.setattr(poll_module, "save_state", real_save)
    # the fifth page's file is on disk but the state still points at it
    assert len(list((tmp_path / "crashed").glob("*.csv"))) == 5
    two_source_poll(firms_client, tmp_path / "crashed")
    assert snapshot(tmp_path / "crashed") == expected


def test_poll_error_names_the_stream_and_keeps_the_key_hidden(
    firms_server: FirmsServer, firms_client: FirmsClient, tmp_path: Path
) -> None:
    firms_server.fail_after(1, Reply(200, b"Invalid MAP_KEY."))
    with pytest.raises(PollError) as caught:
        poll(firms_client, out_dir=tmp_path, region=AREA, start=day(1), today=on(day(27)))
    message = str(caught.value)
    assert "VIIRS_NOAA20_NRT area:30,44.5,40,52" in message
    assert "Invalid MAP_KEY" in message and "<MAP_KEY>" in message
    assert KEY not in message
    assert "resumes with the page starting 2025-08-11" in message
    assert [p.first for p in caught.value.pages] == [day(1)]


# -- options and state validation -----------------------------------------------------------
def test_options_that_contradict_the_state_are_refused(
    firms_server: FirmsServer, firms_client: FirmsClient, tmp_path: Path
) -> None:
    poll(firms_client, out_dir=tmp_path, region=AREA, start=day(1), today=on(day(5)))
    count = len(firms_server.requests)
    with pytest.raises(PollConfigError, match="starts on 2025-08-01, not 2025-08-02"):
        poll(firms_client, out_dir=tmp_path, region=AREA, start=day(2), today=on(day(5)))
    with pytest.raises(PollConfigError, match="pages by 10 days, not 5"):
        poll(firms_client, out_dir=tmp_path, region=AREA, day_range=5, today=on(day(5)))
    with pytest.raises(PollConfigError, match="before start"):
        poll(
            firms_client, out_dir=tmp_path, region=AREA, start=day(3), end=day(2), today=on(day(5))
        )
    with pytest.raises(PollConfigError, match="after today"):
        poll(firms_client, out_dir=tmp_path / "new", region=AREA, start=day(9), today=on(day(5)))
    with pytest.raises(PollConfigError, match=">= 0"):
        poll(firms_client, out_dir=tmp_path, region=AREA, overlap_days=-1, today=on(day(5)))
    with (
        Workspace(tmp_path / "home") as workspace,
        pytest.raises(PollConfigError, match="Landsat"),
    ):
        poll(
            firms_client,
            out_dir=tmp_path,
            region=AREA,
            sources=["LANDSAT_NRT"],
            workspace=workspace,
            today=on(day(5)),
        )
    assert len(firms_server.requests) == count


def test_a_corrupt_state_file_is_named(firms_client: FirmsClient, tmp_path: Path) -> None:
    state = tmp_path / STATE_FILE
    state.write_text("{not json")
    with pytest.raises(RecordError, match=r"\.firms-poll-state\.json: not JSON"):
        poll(firms_client, out_dir=tmp_path, region=AREA, today=on(day(5)))
    record = {
        "source": V20,
        "region": "area:30,44.5,40,52",
        "origin": "2025-08-01",
        "day_range": 12,
        "complete_through": None,
        "fetched_through": None,
    }
    state.write_text(
        json.dumps({"format": "truceline-firms-poll-state", "version": 1, "streams": [record]})
    )
    with pytest.raises(RecordError, match=r"streams\[0\], field 'day_range'"):
        load_state(state)
    record.update(day_range=10, origin="2025-13-01")
    state.write_text(
        json.dumps({"format": "truceline-firms-poll-state", "version": 1, "streams": [record]})
    )
    with pytest.raises(RecordError, match=r"streams\[0\], field 'origin'"):
        load_state(state)
    state.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(RecordError, match="field 'format'"):
        load_state(state)


def test_one_poll_at_a_time_per_directory(firms_client: FirmsClient, tmp_path: Path) -> None:
    with (tmp_path / ".firms-poll.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(PollConfigError, match="another poll is running"):
            poll(firms_client, out_dir=tmp_path, region=AREA, today=on(day(5)))
        fcntl.flock(handle, fcntl.LOCK_UN)


# -- ingest into a home ---------------------------------------------------------------------
def test_poll_ingests_each_page_and_reingest_adds_nothing(
    firms_server: FirmsServer, firms_client: FirmsClient, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with Workspace(tmp_path / "home") as workspace:
        first = poll(
            firms_client,
            out_dir=out,
            region=AREA,
            start=day(11),
            today=on(day(27)),
            workspace=workspace,
        )
        # every row is new, plus the sensor record on the first page
        assert [p.ingest.new if p.ingest else None for p in first.pages] == [31, 21]
        firms_server.revise(V20, SEGMENT, day(27))
        second = poll(
            firms_client, out_dir=out, region=AREA, today=on(day(28)), workspace=workspace
        )
        [page] = second.pages
        assert page.ingest is not None
        # the page is re-fetched whole: only the revised row and the new day are new
        assert (page.ingest.records, page.ingest.new) == (1 + 8 * 3 + 1, 1 + 3)
        log_size = workspace.log.size
        again = [ingest_file(workspace, path) for path in sorted(out.glob("*.csv"))]
        assert [r.new for r in again] == [0, 0]
        assert workspace.log.size == log_size
        stored = workspace.store.observations()
    # every distinct detection served, once: days 11-28 at 3 a day, plus the revision
    assert len(stored) == 18 * 3 + 1


# -- the command line -----------------------------------------------------------------------
runner = CliRunner()


def cli(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["satellite", "poll", *args], env=env)
    return result.exit_code, result.output


@pytest.fixture
def cli_env(firms_server: FirmsServer) -> dict[str, str | None]:
    return {"FIRMS_MAP_KEY": KEY, "FIRMS_BASE_URL": firms_server.base_url}


def test_cli_polls_ingests_and_resumes(
    firms_server: FirmsServer, cli_env: dict[str, str | None], tmp_path: Path
) -> None:
    out, home = tmp_path / "out", tmp_path / "home"
    args = [
        "--area",
        "30,44.5,40,52",
        "--start",
        "2025-08-01",
        "--end",
        "2025-08-12",
        "--out",
        str(out),
        "--min-interval",
        "0",
        "--json",
    ]
    code, output = cli(*args, "--ingest", "--home", str(home), env=cli_env)
    assert code == 0, output
    summary = json.loads(output)
    assert [(p["first"], p["last"], p["rows"]) for p in summary["pages"]] == [
        ("2025-08-01", "2025-08-10", 30),
        ("2025-08-11", "2025-08-12", 6),
    ]
    assert [p["ingest"]["new"] for p in summary["pages"]] == [31, 6]  # + the sensor, once
    assert summary["streams"][0]["complete_through"] == "2025-08-12"
    assert Path(summary["state"]) == out / STATE_FILE
    assert KEY not in output
    # a second run has nothing to fetch
    count = len(firms_server.data_requests)
    code, output = cli(*args, env=cli_env)
    assert code == 0, output
    assert json.loads(output)["pages"] == []
    assert len(firms_server.data_requests) == count
    # the files re-ingest as no-ops through the ordinary ingest command
    result = runner.invoke(app, ["ingest", str(out), "--home", str(home), "--json"])
    assert result.exit_code == 0, result.output
    assert [r["new"] for r in json.loads(result.stdout)] == [0, 0]


def test_cli_text_output_and_country(cli_env: dict[str, str | None], tmp_path: Path) -> None:
    code, output = cli(
        "--country",
        "UKR",
        "--source",
        "MODIS_NRT",
        "--source",
        "VIIRS_SNPP_NRT",
        "--start",
        "2025-08-01",
        "--end",
        "2025-08-02",
        "--out",
        str(tmp_path),
        "--min-interval",
        "0",
        env=cli_env,
    )
    assert code == 0, output
    assert "MODIS_NRT country:UKR 2025-08-01..2025-08-02: 6 detection(s)" in output
    assert "VIIRS_SNPP_NRT country:UKR: final through 2025-08-02" in output
    assert csv_names(tmp_path) == [
        "MODIS_NRT_UKR_2025-08-01_2025-08-02.csv",
        "VIIRS_SNPP_NRT_UKR_2025-08-01_2025-08-02.csv",
    ]


def test_cli_needs_the_key(
    firms_server: FirmsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FIRMS_MAP_KEY", raising=False)
    code, output = cli(
        "--area", "30,44,40,52", "--out", str(tmp_path), "--base-url", firms_server.base_url
    )
    assert code == 2
    assert "FIRMS_MAP_KEY" in output
    assert firms_server.requests == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--area", "40,44,30,52"], "west < east"),
        (["--area", "30,44,40"], "four numbers"),
        (["--area", "30,44,40,52", "--country", "UKR"], "exactly one"),
        ([], "exactly one"),
        (["--country", "Ukraine"], "alpha-3"),
        (["--area", "30,44,40,52", "--source", "VIIRS"], "unknown FIRMS source"),
        (["--area", "30,44,40,52", "--start", "01/08/2025"], "YYYY-MM-DD"),
        (["--area", "30,44,40,52", "--day-range", "11"], "--day-range"),
        (["--area", "30,44,40,52", "--base-url", "ftp://x"], "http"),
    ],
)
def test_cli_usage_errors(
    firms_server: FirmsServer,
    cli_env: dict[str, str | None],
    tmp_path: Path,
    args: list[str],
    needle: str,
) -> None:
    code, output = cli(*args, "--out", str(tmp_path), env=cli_env)
    assert code == 2, output
    assert needle in output
    assert firms_server.requests == []


def test_cli_runtime_failure_exits_1_without_the_key(
    firms_server: FirmsServer, cli_env: dict[str, str | None], tmp_path: Path
) -> None:
    firms_server.fail_after(0, Reply(200, b"Invalid MAP_KEY."))
    code, output = cli(
        "--area", "30,44,40,52", "--out", str(tmp_path), "--min-interval", "0", env=cli_env
    )
    assert code == 1
    assert "Invalid MAP_KEY" in output and "<MAP_KEY>" in output
    assert KEY not in output
    assert len(firms_server.data_requests) == 1


def test_cli_retries_are_reported(
    firms_server: FirmsServer, cli_env: dict[str, str | None], tmp_path: Path
) -> None:
    firms_server.queue(Reply(429, b"", (("Retry-After", "0"),)))
    code, output = cli(
        "--area",
        "30,44,40,52",
        "--start",
        "2025-08-01",
        "--end",
        "2025-08-01",
        "--out",
        str(tmp_path),
        "--min-interval",
        "0",
        env=cli_env,
    )
    assert code == 0, output
    assert "retry 1 in 0.0 s: HTTP 429" in output
    assert len(firms_server.data_requests) == 2
