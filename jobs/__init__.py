"""Scheduled entry points: ``run_once`` (cron, ``reconcile run``) and ``scheduler``
(``reconcile schedule``, a long-running loop). See docs/operations.md."""
