"""What the station and the hub share, written once: the coded error both error trees grow
from, problem+json answers, the screens' word helper, and the screens' base CSS and CSRF
script (``static/``).

Both ``api`` (the station's web side) and ``fleet`` (the hub) import this package; it
imports neither of them. ``locker`` imports only :mod:`common.errors`, which needs no web
framework: :mod:`common.problems` (FastAPI) is for the two web sides.
"""
