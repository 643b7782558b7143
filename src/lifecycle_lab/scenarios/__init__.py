"""Seeded synthetic worlds the practice projects run on; each module is one scenario."""
