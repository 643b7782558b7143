"""The exercise feedback framework: `check(answer)`, `hint(n)`, `solution()` for every exercise.

Everything lives in `lifecycle_lab.exercises.core` (the kinds of exercise, the declaration of a notebook's
exercises, the recording of answers for grading). The exercises themselves belong to their notebook's
project package (`lifecycle_lab.projects.pNN_*.exercises`).
"""
