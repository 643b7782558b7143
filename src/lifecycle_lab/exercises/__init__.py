"""The exercise feedback layer: `check(answer)`, `hint(n)`, `solution()` for every exercise."""

from lifecycle_lab.exercises.core import (
                   CORRECT,
                   INCORRECT,
                   NOT_ATTEMPTED,
                   Case,
                   DecisionExercise,
                   Exercise,
                   Feedback,
                   Field,
                   FunctionExercise,
                   ValueExercise,
                   is_blank,
)

__all__ = ["CORRECT", "INCORRECT", "NOT_ATTEMPTED", "Case", "DecisionExercise", "Exercise", "Feedback", "Field",
           "FunctionExercise", "ValueExercise", "is_blank"]
