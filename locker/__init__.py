"""The pickup station's domain: compartments, parcels, codes, assignment and services.

Pure Python: this package imports neither FastAPI nor pyserial. Hardware is reached
through :class:`locker.locks.Locks`, which ``drivers`` implements.
"""
