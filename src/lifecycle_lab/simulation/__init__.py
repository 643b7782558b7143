"""Building blocks of the synthetic worlds that more than one practice project needs.

Why a toolkit: projects never import each other, so a part two worlds share (a catalogue with long-tail
popularity, users with latent tastes, a click model with position bias) lives here, below every stage
toolkit, and each project's own world composes these parts. numpy only.
"""
