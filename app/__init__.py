"""The Parcel Radar HTTP service: assessment API, review workflow, persistence and officer pages."""
