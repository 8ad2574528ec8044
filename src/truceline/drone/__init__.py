"""Drone channel: telemetry (MAVLink, MISB ST 0601 KLV), footprints, geolocated detections."""
