"""Fault trials on real processes: crashes, a database that goes away, brute force against sign-in."""
