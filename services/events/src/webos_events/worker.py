"""`python -m webos_events.worker`: the background task worker that `webos up` starts.

It imports the task modules declared in the `webos.tasks` entry-point group
(and `WEBOS_TASK_MODULES`), consumes the task queue and fires schedules.
"""

from webos_common.tasks.worker import main

if __name__ == "__main__":
    main()
