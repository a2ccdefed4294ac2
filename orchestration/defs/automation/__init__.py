"""The nightly job, its schedule and the landing-folder sensor."""
