"""The beat schedule. Deadlines (SLA, offer expiry) are rows scanned here, not countdowns.

Each app adds its periodic jobs to this dict; the job itself lives in workers/jobs.py when it
crosses apps, or in the app's tasks.py when it is the app's own.
"""

BEAT_SCHEDULE: dict[str, dict] = {
    # --- marketplace ---
    # --- messaging ---
    # --- billing ---
    # --- qa ---
}
