"""The pruning engine: calibration batches, scoring, selection, physical removal, schedules, export."""
