"""Sub-commands for the course text: `site` builds the website, `quiz` asks a chapter's quiz."""

from __future__ import annotations

import sys

from lifecycle_lab.base import paths
from lifecycle_lab.course import quiz as quizmod
from lifecycle_lab.course.quiz import QuizError
from lifecycle_lab.course.site import SiteError, build_site


def register(sub) -> None:
    site = sub.add_parser("site", help="build the course website (offline) into OUT/html")
    site.add_argument("--out", default=str(paths.BUILD / "site"), help="output folder (default build/site)")
    site.add_argument("--verbose", action="store_true", help="show Sphinx's own progress output")
    site.set_defaults(handler=cmd_site)

    quiz = sub.add_parser("quiz", help="answer a chapter quiz on the command line, with immediate feedback")
    quiz.add_argument("name", nargs="?", help="quiz name, e.g. monitoring (see --list)")
    quiz.add_argument("--list", action="store_true", help="list the quizzes")
    quiz.add_argument("--answers", metavar="N=A,...",
                      help="answer without prompting, e.g. --answers 1=b,2=0.2 (exit 1 if any is wrong)")
    quiz.set_defaults(handler=cmd_quiz)


def cmd_site(args) -> int:
    import time

    start = time.perf_counter()
    try:
        result = build_site(args.out, quiet=not args.verbose)
    except SiteError as err:
        print(f"lifecycle-lab site: {err}", file=sys.stderr)
        return 1
    print(f"built {result.html / 'index.html'} in {time.perf_counter() - start:.0f} s")
    print(f"solution notebooks rendered: {', '.join(result.notebooks) or '(none present)'}")
    if result.missing_links:
        stems = sorted({m.split(': ')[1] for m in result.missing_links})
        print(f"notebooks linked from chapters but not present yet (shown as 'not yet available'): "
              f"{', '.join(stems)}")
    for item in result.unresolved_sections:
        print(f"note: no heading matches section link {item}; it points at the notebook's top")
    for item in result.ambiguous_sections:
        print(f"note: section link {item}; use words only one heading has (it points at the notebook's top)")
    if not result.mathjax:
        print("note: no local MathJax found (Debian package libjs-mathjax); formulas are shown as TeX source")
    if result.warnings:
        print(f"{len(result.warnings)} Sphinx warnings, see {args.out}/warnings.txt")
    print(f"serve it with: make serve-site  "
          f"(or python -m http.server --bind 127.0.0.1 --directory {result.html} 8000)")
    return 0


def cmd_quiz(args) -> int:
    if args.list or not args.name:
        names = quizmod.available()
        if not args.list:
            print("name a quiz, e.g. `lifecycle-lab quiz monitoring`; available: " + ", ".join(names),
                  file=sys.stderr)
            return 2
        invalid = 0
        for name in names:
            try:
                q = quizmod.load_quiz(name)
                print(f"{name:<14} {len(q.questions):>2} questions  {q.title}")
            except quizmod.QuizError as err:
                invalid += 1
                print(f"{name:<14} INVALID: {err}")
        return 1 if invalid else 0
    try:
        quiz = quizmod.load_quiz(args.name)
        answers = quizmod.parse_answers(args.answers, quiz) if args.answers is not None else None
    except quizmod.QuizError as err:
        print(f"lifecycle-lab quiz: {err}", file=sys.stderr)
        return 2
    print(f"Quiz: {quiz.title} ({len(quiz.questions)} questions)\n")
    right = answered = 0
    for q in quiz.questions:
        if answers is not None:
            if q.id not in answers:
                continue
            print(q.text())
            value = answers[q.id]
            print(f"> {value}")
        else:
            print(q.text())
            value = _ask(q)
            if value is _STOP:
                print("\n(stopped)")
                break
        fb = q.feedback(value)
        if value is not None:
            answered += 1
            right += fb.passed
        print(q.reply(value) + "\n")
    print(f"score: {right}/{answered} answered correctly ({len(quiz.questions)} questions in the quiz)")
    if answers is not None:
        return 0 if right == answered else 1
    return 0


_STOP = object()


def _ask(q):
    """Read an answer from stdin until it parses; blank skips, end of input stops."""

    while True:
        try:
            raw = input("your answer (blank to skip): ")
        except EOFError:
            return _STOP
        if not raw.strip():
            return None
        try:
            return q.parse(raw)
        except QuizError as err:
            print(f"  {err}")
