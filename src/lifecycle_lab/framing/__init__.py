"""Problem framing: is ML the right tool, what would it be worth, and what to build first.

The lifecycle's first stage as code: canvases that make a team state the prediction, the decision it drives
and how success is measured before any data is touched, and prioritisation scores for a backlog of AI
features. Pure Python; no heavy imports: `canvas` (the ML Canvas, and whether rules would do) and
`prioritise` (ICE, RICE, value vs effort, OKR coverage, how a ranking moves with one confidence).
"""
