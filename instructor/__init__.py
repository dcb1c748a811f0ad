"""Instructor material: reference solutions of the exercises (not part of the student-facing ``stylelab`` package)."""
