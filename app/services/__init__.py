"""Domain services: functions that take a session and know nothing of HTTP."""
