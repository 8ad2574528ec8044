"""The satellite channel: war-scale fire activity and change detection from orbit.

* :mod:`.firms_api` / :mod:`.poll` — the NASA FIRMS area API client and
  resumable incremental polling (``truceline satellite poll``).
* :mod:`.firms_table`, :mod:`.grid`, :mod:`.baseline`, :mod:`.excess` — the
  excess fire-activity model: a baseline of expected detections per grid cell
  and day of year fitted on peacetime years, and the daily test that flags
  improbable cell-days (``truceline satellite fit`` / ``score``).
* :mod:`.raster` — change detection on GeoTIFF stacks: SAR log-ratio and the
  pixel-wise Welch t-test (PWTT), optical dNBR / NDVI / brightness change,
  vectorised into observations (``truceline satellite change``).
"""
